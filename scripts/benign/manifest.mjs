// Reads and checks scripts/benign/servers.json: the pinned list of MCP server packages the capture installs and
// lists. A bad entry is reported with the file, line, entry index and field, and the other entries are still usable.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

export const manifestPath = fileURLToPath(new URL('./servers.json', import.meta.url));

const STRING_FIELDS = ['name', 'version'];
const OPTIONAL_STRING_FIELDS = ['bin', 'skip', 'note'];

function checkEntry(entry, index, where) {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return `${where}: not an object`;
  for (const field of STRING_FIELDS) {
    if (typeof entry[field] !== 'string' || entry[field] === '') return `${where}.${field}: must be a non-empty string`;
  }
  if (!/^\d+\.\d+\.\d+([-+][\w.-]+)?$/.test(entry.version)) {
    return `${where}.version: "${entry.version}" is not an exact version (pins keep the capture reproducible)`;
  }
  for (const field of OPTIONAL_STRING_FIELDS) {
    if (entry[field] !== undefined && typeof entry[field] !== 'string') return `${where}.${field}: must be a string`;
  }
  if (entry.args !== undefined && !(Array.isArray(entry.args) && entry.args.every((a) => typeof a === 'string'))) {
    return `${where}.args: must be an array of strings`;
  }
  if (entry.env !== undefined) {
    if (entry.env === null || typeof entry.env !== 'object' || Array.isArray(entry.env)) return `${where}.env: must be an object`;
    for (const [key, value] of Object.entries(entry.env)) {
      if (typeof value !== 'string') return `${where}.env.${key}: must be a string`;
    }
  }
  return null;
}

/** "file:line: servers[i]" for entry i; JSON is YAML, and the YAML parser keeps source offsets. */
function entryLocator(path, text) {
  const document = parseDocument(text);
  return (index) => {
    const offset = document.getIn(['servers', index], true)?.range?.[0];
    const line = offset === undefined ? '?' : text.slice(0, offset).split('\n').length;
    return `${path}:${line}: servers[${index}]`;
  };
}

/** Returns { entries, errors }: the valid entries in manifest order and one message per rejected entry. */
export function loadManifest(path = manifestPath) {
  let parsed;
  let text;
  try {
    text = readFileSync(path, 'utf8');
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: cannot read the server manifest: ${error.message}`);
  }
  const where = entryLocator(path, text);
  if (!parsed || !Array.isArray(parsed.servers)) throw new Error(`${path}: field "servers" must be an array`);
  const entries = [];
  const errors = [];
  const seen = new Set();
  parsed.servers.forEach((entry, index) => {
    const problem = checkEntry(entry, index, where(index));
    if (problem) errors.push(problem);
    else if (seen.has(entry.name)) errors.push(`${where(index)}.name: "${entry.name}" is listed twice`);
    else {
      seen.add(entry.name);
      entries.push(entry);
    }
  });
  return { entries, errors };
}
