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
 *    (recursively), since Sigma matches values and a parameter's name is a key.
 * The engine computes them lazily, once per event.
 */
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { hiddenTagRuns } from './hiddenTagText.js';
import { LeafCollector, type ScanLimits } from './scanLimits.js';

export type DerivedFieldCompute = (event: McpEvent, limits: ScanLimits) => string[];

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** JSON Schema keywords holding subschemas: by name ('map': an object of schemas), or directly ('schema': one or a list). */
const SCHEMA_KEYWORDS = new Map<string, 'map' | 'schema'>([
  ...['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'].map((k) => [k, 'map'] as const),
  ...['items', 'additionalProperties', 'additionalItems', 'unevaluatedProperties', 'unevaluatedItems', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'anyOf', 'oneOf', 'allOf', 'prefixItems'].map((k) => [k, 'schema'] as const),
]);

/** Visits a schema and its subschemas, depth first, up to maxDepth. */
function walkSchema(schema: unknown, visit: (schema: Json) => void, depth: number, maxDepth: number): void {
  if (!isObject(schema) || depth > maxDepth) return;
  visit(schema);
  for (const key in schema) {
    const kind = SCHEMA_KEYWORDS.get(key);
    if (kind === undefined) continue;
    const value = schema[key];
    const children = kind === 'map' ? (isObject(value) ? Object.values(value) : []) : asArray(value);
    for (const child of children) walkSchema(child, visit, depth + 1, maxDepth);
  }
}

function addSchemaDescriptions(schema: unknown, out: LeafCollector, depth: number, maxDepth: number): void {
  walkSchema(schema, (s) => out.add(s.description), depth, maxDepth);
}

function descriptions(event: McpEvent, limits: ScanLimits): string[] {
  const out = new LeafCollector(limits, true);
  const mcp = event.mcp;
  out.add(mcp?.instructions);
  for (const tool of asArray(mcp?.tools)) {
    if (!isObject(tool)) continue;
    out.add(tool.title);
    out.add(tool.description);
    if (isObject(tool.annotations)) out.add(tool.annotations.title);
    addSchemaDescriptions(tool.input_schema, out, 0, limits.maxDepth);
    addSchemaDescriptions(tool.output_schema, out, 0, limits.maxDepth);
  }
  for (const prompt of asArray(mcp?.prompts)) {
    if (!isObject(prompt)) continue;
    out.add(prompt.description);
    for (const argument of asArray(prompt.arguments)) if (isObject(argument)) out.add(argument.description);
  }
  for (const resource of asArray(mcp?.resources)) if (isObject(resource)) out.add(resource.description);
  return out.values as string[];
}

function addContentText(content: unknown, out: LeafCollector): void {
  for (const block of asArray(content)) {
    if (!isObject(block)) continue;
    out.add(block.text);
    if (isObject(block.resource)) out.add(block.resource.text);
  }
}

function resultText(event: McpEvent, limits: ScanLimits): string[] {
  const out = new LeafCollector(limits, true);
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
  return out.values as string[];
}

function hiddenTags(event: McpEvent, limits: ScanLimits): string[] {
  const strings = new LeafCollector(limits, true);
  strings.addTree(event);
  return (strings.values as string[]).flatMap(hiddenTagRuns);
}

function propertyNames(event: McpEvent, limits: ScanLimits): string[] {
  const out = new LeafCollector(limits, true);
  const addNames = (schema: Json): void => {
    if (isObject(schema.properties)) for (const name of Object.keys(schema.properties)) out.add(name);
  };
  for (const tool of asArray(event.mcp?.tools)) if (isObject(tool)) walkSchema(tool.input_schema, addNames, 0, limits.maxDepth);
  const params = event.mcp?.params;
  if (isObject(params)) walkSchema(params.requestedSchema, addNames, 0, limits.maxDepth);
  return out.values as string[];
}

/** Derived field name → how to compute it. */
export const DERIVED_FIELDS: ReadonlyMap<string, DerivedFieldCompute> = new Map([
  ['mcp.text.descriptions', descriptions],
  ['mcp.text.result', resultText],
  ['mcp.text.hidden_tags', hiddenTags],
  ['mcp.schema.property_names', propertyNames],
]);
