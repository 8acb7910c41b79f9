/**
 * Reads an inventory file (YAML) and validates it against its JSON Schema with ajv. Every problem is reported as
 * FILE:LINE: field 'servers[0].command': what is wrong — all of them at once, so one run fixes the whole file. A file
 * with any problem is refused as a whole: a half-read inventory would call approved servers unknown.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { parseSigmaString } from '../sigma/sigmaString.js';
import { Inventory, type InventoryEntry } from './inventory.js';

/** One problem of an inventory file. */
export interface InventoryProblem {
  line: number;
  field: string;
  message: string;
}

/** An inventory file that cannot be used; the message lists every problem as FILE:LINE. */
export class InventoryFileError extends Error {
  /** Builds the message from the problems. */
  constructor(
    readonly file: string,
    readonly problems: readonly InventoryProblem[],
  ) {
    super(problems.map((p) => `${file}:${p.line}: ${p.field === '' ? '' : `field '${p.field}': `}${p.message}`).join('\n'));
    this.name = 'InventoryFileError';
  }
}

const SHA256 = '^[0-9a-f]{64}$';

/** The inventory file format. */
export const INVENTORY_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['servers'],
  additionalProperties: false,
  properties: {
    servers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        anyOf: [{ required: ['command'] }, { required: ['url'] }],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          command: { type: 'string', minLength: 1 },
          url: { type: 'string', minLength: 1 },
          reported_name: { type: 'string', minLength: 1 },
          version: { type: 'string', minLength: 1 },
          tools: { type: 'object', additionalProperties: { type: 'string', pattern: SHA256 } },
        },
      },
    },
  },
} as const;

interface RawEntry {
  name: string;
  command?: string;
  url?: string;
  reported_name?: string;
  version?: string;
  tools?: Record<string, string>;
}

type InventoryValidator = ValidateFunction<{ servers: RawEntry[] }>;
let compiled: InventoryValidator | undefined;

/** The schema's validator, compiled on first use (most runs have no inventory). */
function validator(): InventoryValidator {
  compiled ??= new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile<{ servers: RawEntry[] }>(INVENTORY_SCHEMA);
  return compiled;
}

/** "servers[0].command" from "/servers/0/command". */
function fieldOf(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${p}`)).join('');
}

function pathOf(instancePath: string): (string | number)[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function explain(error: ErrorObject): { path: (string | number)[]; message: string } {
  const path = pathOf(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: [...path, String(params.missingProperty)], message: 'required, but missing' };
    case 'additionalProperties':
      return { path: [...path, String(params.additionalProperty)], message: 'unknown field (an entry has name, command, url, reported_name, version, tools)' };
    case 'anyOf':
      return { path, message: 'needs a command pattern (stdio servers) or a url pattern (remote servers)' };
    case 'pattern':
      return { path, message: 'must be a SHA-256 tool hash: 64 lower-case hex digits' };
    case 'type':
      return { path, message: path.length === 0 ? "must be a mapping with a 'servers' list" : (error.message ?? 'has the wrong type') };
    default:
      return { path, message: error.message ?? error.keyword };
  }
}

/** The line of the deepest YAML node on `path` (the value if present, else its closest existing parent). */
function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return 1;
}

/** Parses and validates inventory text; throws InventoryFileError listing every problem. */
export function parseInventory(file: string, text: string): Inventory {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: InventoryProblem[] = doc.errors.map((e) => ({ line: lines.linePos(e.pos[0]).line, field: '', message: `YAML: ${e.message.split('\n')[0] ?? ''}` }));
  if (problems.length > 0) throw new InventoryFileError(file, problems);
  const value: unknown = doc.toJS();
  const validate = validator();
  if (!validate(value)) {
    const seen = new Set<string>();
    for (const error of validate.errors ?? []) {
      // anyOf reports each failed branch too; the anyOf line says it better.
      if (error.keyword === 'required' && error.schemaPath.includes('anyOf')) continue;
      const { path, message } = explain(error);
      const problem = { line: lineOf(doc, lines, path), field: fieldOf(path), message };
      const key = `${problem.line}|${problem.field}|${message}`;
      if (!seen.has(key)) problems.push(problem);
      seen.add(key);
    }
    throw new InventoryFileError(file, problems);
  }
  const servers = doc.get('servers', true);
  const entries: InventoryEntry[] = value.servers.map((raw, index) => {
    const node = isSeq(servers) ? servers.items[index] : undefined;
    const entry: InventoryEntry = { name: raw.name, line: isMap(node) && node.range ? lines.linePos(node.range[0]).line : 1 };
    if (raw.command !== undefined) entry.command = raw.command;
    if (raw.url !== undefined) entry.url = raw.url;
    if (raw.reported_name !== undefined) entry.reportedName = raw.reported_name;
    if (raw.version !== undefined) entry.version = raw.version;
    if (raw.tools !== undefined) entry.tools = raw.tools;
    for (const field of ['command', 'url', 'version'] as const) {
      const pattern = entry[field];
      if (pattern === undefined) continue;
      try {
        parseSigmaString(pattern);
      } catch (error) {
        problems.push({ line: lineOf(doc, lines, ['servers', index, field]), field: fieldOf(['servers', index, field]), message: `not a valid pattern: ${(error as Error).message}` });
      }
    }
    return entry;
  });
  if (problems.length > 0) throw new InventoryFileError(file, problems);
  return new Inventory(file, entries);
}

/** Reads and validates an inventory file. */
export function loadInventoryFile(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InventoryFileError(path, [{ line: 1, field: '', message: `cannot read the inventory: ${(error as Error).message}` }]);
  }
  return parseInventory(path, text);
}
