/**
 * The texts of an event the learned tier reads, each with the head that reads it and where it came from:
 * documentation (per tool: title, description and its input-schema property descriptions together, since a poisoned
 * instruction can sit in either; per prompt: description and argument descriptions; per resource and resource
 * (and template): description; server instructions) and returned content (crossServer/returnedContent.ts: tool results,
 * resource contents, prompt messages, sampling requests).
 */
import type { McpEvent } from '../../../pipeline/types/mcpEvent.js';
import { returnedContent } from '../../crossServer/returnedContent.js';
import type { ContentHead } from './contentModel.js';

/** One text to score. */
export interface EventText {
  head: ContentHead;
  /** Where in the event: `mcp.tools[name]`, `mcp.instructions`, `gen_ai.tool.call.result`, … */
  field: string;
  /** The tool, prompt or resource it belongs to, when there is one. */
  name?: string;
  text: string;
}

/**
 * Documentation text shorter than this many words is not scored: a one- or two-word description ("Forecasts.")
 * carries too little evidence, and the model, which learned from short openly-harmful docstrings, scores such
 * fragments high (DETECTION.md).
 */
const MIN_DOCUMENTATION_WORDS = 3;
const WORD = /[\p{L}\p{N}_]+/gu;

/** Most characters of returned content read per event (windows cover all of it). */
const MAX_CONTENT_CHARS = 262_144;
const MAX_SCHEMA_DEPTH = 8;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/** "name: description" lines of a schema's properties, recursively. */
function schemaLines(schema: unknown, depth: number, out: string[]): void {
  if (!isObject(schema) || depth > MAX_SCHEMA_DEPTH) return;
  const description = depth > 0 ? str(schema.description) : undefined;
  if (description) out.push(description);
  if (isObject(schema.properties)) {
    for (const [name, property] of Object.entries(schema.properties)) {
      const before = out.length;
      schemaLines(property, depth + 1, out);
      if (out.length > before) out[before] = `${name}: ${out[before] as string}`;
    }
  }
  if (isObject(schema.items)) schemaLines(schema.items, depth + 1, out);
}

/** Whether `text` has at least `n` words (counting stops there; no match objects are made). */
function hasWords(text: string, n: number): boolean {
  // Words are separated by at least one character, so a shorter text cannot have that many.
  if (text.length < 2 * n - 1) return false;
  let found = 0;
  for (WORD.lastIndex = 0; found < n && WORD.test(text); ) found++;
  return found >= n;
}

function joined(parts: (string | undefined)[]): string {
  return parts.filter((p): p is string => p !== undefined).join('\n');
}

/**
 * The texts last taken from an event: tier 1, the learned tier and the Sigma fields that read its verdict all ask
 * for them, one after the other, for the same event object (the runtime hands each event to every detector in turn).
 */
let last: { event: McpEvent; texts: readonly EventText[] } | undefined;

/** The texts of `event` for the content tiers, in a fixed order. */
export function eventTexts(event: McpEvent): readonly EventText[] {
  if (last?.event !== event) last = { event, texts: textsOf(event) };
  return last.texts;
}

function textsOf(event: McpEvent): EventText[] {
  const out: EventText[] = [];
  const mcp = event.mcp as Json & McpEvent['mcp'];
  const add = (head: ContentHead, field: string, text: string, name?: string): void => {
    if (head === 'documentation' ? !hasWords(text, MIN_DOCUMENTATION_WORDS) : text.trim() === '') return;
    out.push({ head, field, text, ...(name === undefined ? {} : { name }) });
  };
  const instructions = str(mcp.instructions);
  if (instructions) add('documentation', 'mcp.instructions', instructions);
  for (const tool of list(mcp.tools)) {
    if (!isObject(tool)) continue;
    const lines: string[] = [];
    schemaLines(tool.input_schema, 0, lines);
    const name = str(tool.name);
    add('documentation', `mcp.tools[${name ?? '?'}]`, joined([str(tool.title), str(tool.description), ...lines]), name);
  }
  for (const prompt of list(mcp.prompts)) {
    if (!isObject(prompt)) continue;
    const args = list(prompt.arguments).map((a) => (isObject(a) && str(a.description) ? `${str(a.name) ?? ''}: ${a.description as string}` : undefined));
    const name = str(prompt.name);
    add('documentation', `mcp.prompts[${name ?? '?'}]`, joined([str(prompt.title), str(prompt.description), ...args]), name);
  }
  for (const resource of list(mcp.resources)) {
    if (!isObject(resource)) continue;
    const name = str(resource.name) ?? str(resource.uri) ?? str(resource.uri_template);
    add('documentation', `mcp.resources[${name ?? '?'}]`, joined([str(resource.title), str(resource.description)]), name);
  }
  const content = returnedContent(event, MAX_CONTENT_CHARS);
  if (content) add('content', content.kind === 'tool_result' ? 'gen_ai.tool.call.result' : content.kind === 'sampling' ? 'mcp.params' : 'mcp.result', content.text, content.origin);
  return out;
}
