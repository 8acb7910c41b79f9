/**
 * The field names a rule can read, taken from the event contract (pipeline/schemas/event.schema.json) plus the
 * engine's derived fields, so rule tooling can tell a typo from a real field without a hand-kept list.
 * Objects the schema leaves open (tool arguments, results, params, url.*, http.*) accept any sub-field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../pipeline/packagePaths.js';
import { DERIVED_FIELDS } from './derivedFields.js';

/** What the schema says about one declared field. */
export interface EventFieldInfo {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'object';
  /** JSON Schema format (date-time for timestamps). */
  format?: string;
  /** An object that accepts any sub-field. */
  open?: boolean;
}

/** How a field name relates to the event contract. */
export type EventFieldLookup =
  | { status: 'declared'; info: EventFieldInfo }
  | { status: 'open'; root: string }
  | { status: 'derived' }
  | { status: 'unknown' };

interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
}

interface Catalog {
  declared: Map<string, EventFieldInfo>;
  /** Paths under which any sub-field is allowed. */
  openRoots: Set<string>;
}

let catalog: Catalog | undefined;

/** Scalar info, or undefined for an object (or an untyped value, which may hold anything). */
function scalarInfo(node: SchemaNode): EventFieldInfo | undefined {
  const sample = node.const ?? node.enum?.[0];
  const type = Array.isArray(node.type) ? node.type[0] : node.type ?? (sample === undefined ? undefined : typeof sample);
  if (type !== 'string' && type !== 'integer' && type !== 'number' && type !== 'boolean') return undefined;
  return node.format === undefined ? { type } : { type, format: node.format };
}

function buildCatalog(): Catalog {
  const schema = JSON.parse(readFileSync(join(packageRoot(), 'pipeline', 'schemas', 'event.schema.json'), 'utf8')) as SchemaNode & { $defs: Record<string, SchemaNode> };
  const resolve = (node: SchemaNode): SchemaNode => (node.$ref ? resolve(schema.$defs[node.$ref.replace('#/$defs/', '')] as SchemaNode) : node);
  const result: Catalog = { declared: new Map(), openRoots: new Set() };
  const visit = (path: string, raw: SchemaNode): void => {
    const node = resolve(raw);
    if (node.items) {
      visit(path, node.items);
      return;
    }
    const scalar = scalarInfo(node);
    const open = scalar === undefined && (!node.properties || node.additionalProperties !== false);
    if (path !== '') result.declared.set(path, scalar ?? { type: 'object', open });
    if (open) result.openRoots.add(path);
    for (const [key, child] of Object.entries(node.properties ?? {})) visit(path === '' ? key : `${path}.${key}`, child);
  };
  visit('', schema);
  return result;
}

/** Looks a rule field name up in the event contract. */
export function lookupEventField(name: string): EventFieldLookup {
  if (DERIVED_FIELDS.has(name)) return { status: 'derived' };
  catalog ??= buildCatalog();
  const info = catalog.declared.get(name);
  if (info) return { status: 'declared', info };
  const segments = name.split('.');
  for (let end = segments.length - 1; end > 0; end--) {
    const root = segments.slice(0, end).join('.');
    if (catalog.openRoots.has(root)) return { status: 'open', root };
  }
  return { status: 'unknown' };
}

/** The declared fields one level below `name` (empty for a scalar or an open object). */
export function declaredChildren(name: string): string[] {
  catalog ??= buildCatalog();
  const prefix = `${name}.`;
  return [...catalog.declared.keys()].filter((path) => path.startsWith(prefix) && !path.slice(prefix.length).includes('.'));
}
