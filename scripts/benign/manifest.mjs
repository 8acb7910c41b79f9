// Reads and checks scripts/benign/servers.json: the pinned list of MCP server packages the capture installs and
// lists. A bad entry is reported with the file, entry index and field, and the other entries are still usable.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const manifestPath = fileURLToPath(new URL('./servers.json', import.meta.url));

const STRING_FIELDS = ['name', 'version'];
const OPTIONAL_STRING_FIELDS = ['bin', 'skip', 'note'];

function checkEntry(entry, index) {
  const where = `${manifestPath}: servers[${index}]`;
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

/** Returns { entries, errors }: the valid entries in manifest order and one message per rejected entry. */
export function loadManifest(path = manifestPath) {
  let parsed;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read the server manifest: ${error.message}`);
  }
  if (!parsed || !Array.isArray(parsed.servers)) throw new Error(`${path}: field "servers" must be an array`);
  const entries = [];
  const errors = [];
  const seen = new Set();
  parsed.servers.forEach((entry, index) => {
    const problem = checkEntry(entry, index);
    if (problem) errors.push(problem);
    else if (seen.has(entry.name)) errors.push(`${path}: servers[${index}].name: "${entry.name}" is listed twice`);
    else {
      seen.add(entry.name);
      entries.push(entry);
    }
  });
  return { entries, errors };
}
