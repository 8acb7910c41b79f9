/**
 * How event fields are typed in Elasticsearch (logs-mcp.messages-*), which decides what a translated query may
 * do with them. Declared scalars follow the event schema (strings are keyword, date-time strings are date);
 * objects the schema leaves open are flattened (as ECS 9.1 maps gen_ai.tool.call.arguments and .result),
 * except the ECS url.*, http.*, source.* and user_agent.* sets, whose sub-fields have ECS types. The derived
 * fields the Elasticsearch store indexes (pipeline/elasticsearch/esMappings.ts) are wildcard fields (mcp.text.*) or
 * keywords (mcp.schema.property_names), which match alike; the other derived fields exist only in Tapwire's engine.
 */
import { INDEXED_TEXT_FIELDS } from '../../pipeline/elasticsearch/esMappings.js';
import { declaredChildren, lookupEventField } from './eventFieldCatalog.js';

export type ElasticFieldType = 'keyword' | 'wildcard' | 'date' | 'long' | 'double' | 'boolean' | 'ip' | 'flattened' | 'object';

/** An event field as Elasticsearch holds it, or why it has no Elasticsearch form. */
export type ElasticField = { name: string; type: ElasticFieldType } | { name: string; missing: string };

const ECS_OBJECT_ROOTS = new Set(['url', 'http', 'source', 'user_agent']);
/** ECS sub-fields of those sets that are not keyword; every other one is. */
const ECS_TYPES: ReadonlyMap<string, ElasticFieldType> = new Map([
  ['source.ip', 'ip'],
  ['source.port', 'long'],
  ['source.bytes', 'long'],
  ['url.port', 'long'],
  ['http.response.status_code', 'long'],
  ['http.request.bytes', 'long'],
  ['http.response.bytes', 'long'],
  ['http.request.body.bytes', 'long'],
  ['http.response.body.bytes', 'long'],
]);

/** The Elasticsearch type of a rule field name. */
export function elasticFieldOf(name: string): ElasticField {
  // The store's copy of a params key's text (esMappings.ts), which the exporter queries in place of the key.
  if (name.startsWith('mcp.param_text.') && (INDEXED_TEXT_FIELDS as readonly string[]).includes(name)) return { name, type: 'wildcard' };
  const lookup = lookupEventField(name);
  switch (lookup.status) {
    case 'derived':
      if ((INDEXED_TEXT_FIELDS as readonly string[]).includes(name)) return { name, type: name.startsWith('mcp.text.') ? 'wildcard' : 'keyword' };
      return { name, missing: `'${name}' is computed by Tapwire's engine and is not stored in Elasticsearch` };
    case 'unknown':
      return { name, missing: `'${name}' is not a field of the event schema` };
    case 'open':
      if (ECS_OBJECT_ROOTS.has(lookup.root.split('.')[0] as string)) return { name, type: ECS_TYPES.get(name) ?? 'keyword' };
      return { name, type: 'flattened' };
    case 'declared': {
      const info = lookup.info;
      if (info.type === 'object') return { name, type: info.open && !ECS_OBJECT_ROOTS.has(name) ? 'flattened' : 'object' };
      if (info.type === 'string') return { name, type: info.format === 'date-time' ? 'date' : 'keyword' };
      if (info.type === 'integer') return { name, type: 'long' };
      return { name, type: info.type === 'number' ? 'double' : 'boolean' };
    }
  }
}

/** Whether the field is a key inside a flattened object (Elasticsearch's "keyed" flattened field). */
export function isFlattenedSubField(name: string): boolean {
  const lookup = lookupEventField(name);
  return lookup.status === 'open' && !ECS_OBJECT_ROOTS.has(lookup.root.split('.')[0] as string);
}

/**
 * The fields a query reads for a rule field: the field itself, or for an object every field declared beneath
 * it, since the engine matches an object by every value beneath it.
 */
export function elasticFieldsOf(name: string): ElasticField[] {
  const field = elasticFieldOf(name);
  if ('missing' in field || field.type !== 'object') return [field];
  const children = declaredChildren(name);
  if (children.length === 0) return [{ name, missing: `'${name}' is an object whose sub-fields the event schema does not list` }];
  return children.flatMap(elasticFieldsOf);
}
