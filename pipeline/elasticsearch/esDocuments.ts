/**
 * Events and alerts as Elasticsearch documents, and back. A document is the event or alert itself, placed in the
 * store's namespace (data_stream.namespace is a constant of each data stream), with the indexed derived text fields
 * added under mcp.text; reading removes them again, so readers return what was written.
 */
import type { McpAlert } from '../types/mcpAlert.js';
import type { McpEvent } from '../types/mcpEvent.js';
import type { IndexedTextField } from './esMappings.js';

/** Computes the derived text fields of an event (e.g. with detectors/sigma/derivedFields.ts). */
export type TextFieldsOf = (event: McpEvent) => Partial<Record<IndexedTextField, readonly string[]>>;

/** The leaf name under mcp.text of an indexed text field ('mcp.text.descriptions' → 'descriptions'). */
function textLeaf(field: IndexedTextField): string {
  return field.slice('mcp.text.'.length);
}

/** The messages data stream document of an event. */
export function eventDocument(event: McpEvent, namespace: string, textFieldsOf?: TextFieldsOf): Record<string, unknown> {
  const document: Record<string, unknown> = { ...event, data_stream: { ...event.data_stream, namespace } };
  if (!textFieldsOf) return document;
  const text: Record<string, readonly string[]> = {};
  for (const [field, values] of Object.entries(textFieldsOf(event)) as [IndexedTextField, readonly string[] | undefined][]) {
    if (values && values.length > 0) text[textLeaf(field)] = values;
  }
  if (Object.keys(text).length > 0) document.mcp = { ...event.mcp, text };
  return document;
}

/** The event a messages document holds, without the fields the store added. */
export function eventFromDocument(source: Record<string, unknown>): McpEvent {
  const mcp = source.mcp as Record<string, unknown> | undefined;
  if (mcp === undefined || !('text' in mcp)) return source as unknown as McpEvent;
  const { text: _derived, ...rest } = mcp;
  return { ...source, mcp: rest } as unknown as McpEvent;
}

/** The alerts data stream document of an alert. */
export function alertDocument(alert: McpAlert, namespace: string): Record<string, unknown> {
  return { ...alert, data_stream: { ...alert.data_stream, namespace } };
}
