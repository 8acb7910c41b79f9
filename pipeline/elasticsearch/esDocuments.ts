/**
 * Events and alerts as Elasticsearch documents, and back. A document is the event or alert itself, placed in the
 * store's namespace (data_stream.namespace is a constant of each data stream), with the indexed derived fields
 * added under mcp.text and mcp.schema; reading removes them again, so readers return what was written.
 */
import type { McpAlert } from '../types/mcpAlert.js';
import type { McpEvent } from '../types/mcpEvent.js';
import { INDEXED_TEXT_FIELDS, type IndexedTextField } from './esMappings.js';

/** Computes the derived text fields of an event (e.g. with detectors/sigma/derivedFields.ts). */
export type TextFieldsOf = (event: McpEvent) => Partial<Record<IndexedTextField, readonly string[]>>;

/** The derived fields' path under mcp ('mcp.schema.property_names' → ['schema', 'property_names']). */
function pathUnderMcp(field: IndexedTextField): [string, string] {
  const [, group, leaf] = field.split('.') as [string, string, string];
  return [group, leaf];
}

/** The objects under mcp that hold derived fields (text, schema), which events never carry themselves. */
const DERIVED_GROUPS = new Set(INDEXED_TEXT_FIELDS.map((field) => pathUnderMcp(field)[0]));

/** The messages data stream document of an event. */
export function eventDocument(event: McpEvent, namespace: string, textFieldsOf?: TextFieldsOf): Record<string, unknown> {
  const document: Record<string, unknown> = { ...event, data_stream: { ...event.data_stream, namespace } };
  if (!textFieldsOf) return document;
  const derived: Record<string, Record<string, readonly string[]>> = {};
  for (const [field, values] of Object.entries(textFieldsOf(event)) as [IndexedTextField, readonly string[] | undefined][]) {
    if (!values || values.length === 0) continue;
    const [group, leaf] = pathUnderMcp(field);
    derived[group] = { ...derived[group], [leaf]: values };
  }
  if (Object.keys(derived).length > 0) document.mcp = { ...event.mcp, ...derived };
  return document;
}

/** The event a messages document holds, without the fields the store added. */
export function eventFromDocument(source: Record<string, unknown>): McpEvent {
  const mcp = source.mcp as Record<string, unknown> | undefined;
  if (mcp === undefined || !Object.keys(mcp).some((key) => DERIVED_GROUPS.has(key))) return source as unknown as McpEvent;
  const rest = Object.fromEntries(Object.entries(mcp).filter(([key]) => !DERIVED_GROUPS.has(key)));
  return { ...source, mcp: rest } as unknown as McpEvent;
}

/** The alerts data stream document of an alert. */
export function alertDocument(alert: McpAlert, namespace: string): Record<string, unknown> {
  return { ...alert, data_stream: { ...alert.data_stream, namespace } };
}
