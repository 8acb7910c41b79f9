/**
 * Convenience fields computed from an event, so rules can look at "everything the server tells the model"
 * without listing every place MCP puts text:
 *  - mcp.text.descriptions: tool descriptions and titles, input/output schema descriptions (recursively),
 *    prompt and prompt-argument descriptions, resource descriptions, server instructions;
 *  - mcp.text.result: tool result text (content[].text, embedded resource text, structuredContent as JSON),
 *    resources/read contents[].text and prompts/get message text;
 *  - mcp.text.hidden_tags: the decoded text of Unicode Tag character runs anywhere in the event (hiddenTagText.ts),
 *    so an alert shows what was hidden;
 *  - mcp.schema.property_names: the property names of tool input schemas and of elicitation requested schemas
 *    (recursively), since Sigma matches values and a parameter's name is a key;
 *  - mcp.content.score / mcp.content.class: the learned tier's verdict (content/model/contentVerdictFields.ts).
 * The two text fields hold each string as sent and, when it differs, as the model reads it
 * (content/textNormalization.ts: zero-width split words joined, homoglyphs folded, Tag runs, percent and base64
 * decoded), so a rule's words match through those encodings while rules about the raw characters (hidden
 * content) still see them. The engine computes them lazily, once per event.
 */
import { recordTextOf } from '../../pipeline/recordCodec.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { contentClassField, contentScoreField } from '../content/model/contentVerdictFields.js';
import { EventWork, type SharedEventWork } from '../sharedEventWork.js';
import { hiddenTagRuns, TAG_HIGH_SURROGATE } from './hiddenTagText.js';
import { LeafCollector, type ScanLimits, type ScanReport } from './scanLimits.js';

/**
 * Computes a derived field; a walk the limits cut short is recorded in `report`; text work other readers of the event
 * need too (normalization) goes through `shared` (the rule engine passes the event's; a lone caller may omit it).
 */
export type DerivedFieldCompute = (event: McpEvent, limits: ScanLimits, report?: ScanReport, shared?: SharedEventWork) => string[];

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** JSON Schema keywords holding subschemas: by name ('map': an object of schemas), or directly ('schema': one or a list). */
const SCHEMA_KEYWORDS = new Map<string, 'map' | 'schema'>([
  ...['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'].map((k) => [k, 'map'] as const),
  ...['items', 'additionalProperties', 'additionalItems', 'unevaluatedProperties', 'unevaluatedItems', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'anyOf', 'oneOf', 'allOf', 'prefixItems'].map((k) => [k, 'schema'] as const),
]);

/** Visits a schema and its subschemas, depth first, while the collector has budget (no depth limit: iterative). */
function walkSchema(root: unknown, visit: (schema: Json) => void, out: LeafCollector): void {
  const stack: unknown[] = [root];
  while (stack.length > 0 && !out.full) {
    const schema = stack.pop();
    if (!isObject(schema)) continue;
    visit(schema);
    const children: unknown[] = [];
    for (const key in schema) {
      const kind = SCHEMA_KEYWORDS.get(key);
      if (kind === undefined) continue;
      const value = schema[key];
      children.push(...(kind === 'map' ? (isObject(value) ? Object.values(value) : []) : asArray(value)));
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  if (stack.length > 0) out.truncated = true;
}

function addSchemaDescriptions(schema: unknown, out: LeafCollector): void {
  walkSchema(schema, (s) => out.add(s.description), out);
}

/** The strings as sent, then each one that normalization changes, as the model reads it. */
function withNormalized(values: readonly string[], shared: SharedEventWork): string[] {
  const normalized: string[] = [];
  for (const value of values) {
    const { text } = shared.normalized(value);
    if (text !== value) normalized.push(text);
  }
  return normalized.length === 0 ? (values as string[]) : [...values, ...normalized];
}

function descriptions(event: McpEvent, limits: ScanLimits, report?: ScanReport, shared: SharedEventWork = new EventWork()): string[] {
  const out = new LeafCollector(limits, true, report);
  const mcp = event.mcp;
  out.add(mcp?.instructions);
  for (const tool of asArray(mcp?.tools)) {
    if (!isObject(tool)) continue;
    out.add(tool.title);
    out.add(tool.description);
    if (isObject(tool.annotations)) out.add(tool.annotations.title);
    addSchemaDescriptions(tool.input_schema, out);
    addSchemaDescriptions(tool.output_schema, out);
  }
  for (const prompt of asArray(mcp?.prompts)) {
    if (!isObject(prompt)) continue;
    out.add(prompt.description);
    for (const argument of asArray(prompt.arguments)) if (isObject(argument)) out.add(argument.description);
  }
  for (const resource of asArray(mcp?.resources)) if (isObject(resource)) out.add(resource.description);
  return withNormalized(out.values as string[], shared);
}

function addContentText(content: unknown, out: LeafCollector): void {
  for (const block of asArray(content)) {
    if (!isObject(block)) continue;
    out.add(block.text);
    if (isObject(block.resource)) out.add(block.resource.text);
  }
}

function resultText(event: McpEvent, limits: ScanLimits, report?: ScanReport, shared: SharedEventWork = new EventWork()): string[] {
  const out = new LeafCollector(limits, true, report);
  const toolResult = event.gen_ai?.tool?.call?.result;
  if (isObject(toolResult)) {
    addContentText(toolResult.content, out);
    if (toolResult.structuredContent !== undefined) out.add(JSON.stringify(toolResult.structuredContent).slice(0, limits.maxChars));
  }
  const result = event.mcp?.result;
  if (isObject(result)) {
    for (const item of asArray(result.contents)) if (isObject(item)) out.add(item.text);
    for (const message of asArray(result.messages)) if (isObject(message)) addContentText(message.content, out);
  }
  return withNormalized(out.values as string[], shared);
}

/**
 * Whether a walk of the event could find a Tag run: a string holds the Tag characters' high surrogate, or the event
 * is big enough that the bounded walk might stop early (which that walk must report). Nearly every event answers no
 * without a string being collected (a quarter of the collecting walk's cost).
 */
function mayHoldTagRuns(event: McpEvent, limits: ScanLimits): boolean {
  // Only objects and arrays go on the stack; a scalar is judged where its parent lists it (most nodes are scalars).
  // Every node still counts once, as in the collecting walk.
  const stack: object[] = [event];
  let nodes = 1;
  let strings = 0;
  let chars = 0;
  const visit = (child: unknown): boolean => {
    if (++nodes >= limits.maxNodes) return true;
    if (typeof child === 'string') {
      if (child.includes(TAG_HIGH_SURROGATE)) return true;
      chars += child.length;
      return ++strings >= limits.maxValues || chars >= limits.maxChars;
    }
    if (typeof child === 'object' && child !== null) stack.push(child);
    return false;
  };
  if (nodes >= limits.maxNodes) return true;
  while (stack.length > 0) {
    const node = stack.pop() as object;
    // for-in, not Object.values: no array per object; events are plain JSON objects (no inherited keys).
    if (Array.isArray(node)) {
      for (const child of node) if (visit(child)) return true;
    } else {
      for (const key in node) if (visit((node as Json)[key])) return true;
    }
  }
  return false;
}

/** A Tag character's high surrogate as a JSON escape (`\udb40`, hex digits in either case). */
const ESCAPED_TAG_HIGH_SURROGATE = /\\u[dD][bB]40/;

/**
 * Whether the record text an event was decoded from (recordCodec.ts) can hold a Tag character: as itself, or escaped.
 * One native search of the text instead of a walk of every node of the event (most of the pack's cost for this field).
 */
function recordMayHoldTags(text: string): boolean {
  // JSON writers rarely escape anything but control characters: the plain search for `\u` spares most texts the regex.
  return text.includes(TAG_HIGH_SURROGATE) || (text.includes('\\u') && ESCAPED_TAG_HIGH_SURROGATE.test(text));
}

function hiddenTags(event: McpEvent, limits: ScanLimits, report?: ScanReport): string[] {
  const text = recordTextOf(event);
  if (text !== undefined && !recordMayHoldTags(text)) return [];
  if (!mayHoldTagRuns(event, limits)) return [];
  const strings = new LeafCollector(limits, true, report);
  strings.addTree(event);
  return (strings.values as string[]).flatMap(hiddenTagRuns);
}

function propertyNames(event: McpEvent, limits: ScanLimits, report?: ScanReport): string[] {
  const out = new LeafCollector(limits, true, report);
  const addNames = (schema: Json): void => {
    if (isObject(schema.properties)) for (const name of Object.keys(schema.properties)) out.add(name);
  };
  for (const tool of asArray(event.mcp?.tools)) if (isObject(tool)) walkSchema(tool.input_schema, addNames, out);
  const params = event.mcp?.params;
  if (isObject(params)) walkSchema(params.requestedSchema, addNames, out);
  return out.values as string[];
}

/** Derived field name → how to compute it. */
export const DERIVED_FIELDS: ReadonlyMap<string, DerivedFieldCompute> = new Map([
  ['mcp.text.descriptions', descriptions],
  ['mcp.text.result', resultText],
  ['mcp.text.hidden_tags', hiddenTags],
  ['mcp.schema.property_names', propertyNames],
  ['mcp.content.score', contentScoreField],
  ['mcp.content.class', contentClassField],
]);
