/** The leaf fields of Tapwire's data streams and their Elasticsearch types, as the component templates compose them. */
import type { estypes } from '@elastic/elasticsearch';
import { ALERTS_MAPPINGS, COMMON_MAPPINGS, MESSAGES_MAPPINGS } from '../../pipeline/elasticsearch/esMappings.js';

/** Leaf field paths of a mapping with their types (objects walked, multi-fields as `<field>.<name>`). */
export function leafTypes(properties: Record<string, estypes.MappingProperty> | undefined, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, property] of Object.entries(properties ?? {})) {
    const path = `${prefix}${name}`;
    const children = (property as estypes.MappingObjectProperty).properties;
    if (property.type === 'object' || (property.type === undefined && children)) {
      for (const [child, type] of leafTypes(children, `${path}.`)) out.set(child, type);
      continue;
    }
    out.set(path, String(property.type));
    for (const [sub, type] of leafTypes((property as { fields?: Record<string, estypes.MappingProperty> }).fields, `${path}.`)) out.set(sub, type);
  }
  return out;
}

/** Fields of logs-mcp.messages-*. */
export const MESSAGE_FIELDS = new Map([...leafTypes(COMMON_MAPPINGS.properties), ...leafTypes(MESSAGES_MAPPINGS.properties)]);
/** Fields of logs-mcp.alerts-*. */
export const ALERT_FIELDS = new Map([...leafTypes(COMMON_MAPPINGS.properties), ...leafTypes(ALERTS_MAPPINGS.properties)]);
