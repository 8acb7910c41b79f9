/**
 * What a server put in front of the model, read from its events: tool results, resource contents,
 * prompt messages and sampling requests. And the strings a tool call sends, by argument. Binary
 * payloads (base64 image, audio and blob data) are skipped: they carry no instructions a model reads
 * as text, and would only drown the distinctive tokens.
 */
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

/** Which kind of returned content an event carries. */
export type ContentKind = 'tool_result' | 'resource' | 'prompt' | 'sampling';

/** The content of one event: its kind, what it came from (tool, URI, prompt), and its text. */
export interface ReturnedContent {
  kind: ContentKind;
  origin?: string;
  text: string;
}

/** One string an argument carries, with the argument's key path. */
export interface ArgumentString {
  path: string;
  text: string;
}

const BINARY_KEYS = new Set(['data', 'blob']);
/** Enumerations that say what a block is, not what it says. */
const SHAPE_KEYS = new Set(['type', 'mimeType', 'role', 'isError', 'annotations', '_meta']);
const MAX_DEPTH = 8;

/** The string leaves of `value` under their key paths, until `maxChars` characters are collected. */
function stringLeaves(value: unknown, maxChars: number, skip: ReadonlySet<string>): ArgumentString[] {
  const out: ArgumentString[] = [];
  let budget = maxChars;
  const visit = (node: unknown, path: string, depth: number): void => {
    if (budget <= 0 || depth > MAX_DEPTH) return;
    if (typeof node === 'string') {
      const text = node.length > budget ? node.slice(0, budget) : node;
      budget -= text.length;
      if (text !== '') out.push({ path, text });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item, `${path}[]`, depth + 1);
      return;
    }
    for (const [key, item] of Object.entries(node)) {
      if (!skip.has(key)) visit(item, path === '' ? key : `${path}.${key}`, depth + 1);
    }
  };
  visit(value, '', 0);
  return out;
}

const SKIPPED_IN_CONTENT = new Set([...BINARY_KEYS, ...SHAPE_KEYS]);

function joined(value: unknown, maxChars: number): string {
  return stringLeaves(value, maxChars, SKIPPED_IN_CONTENT)
    .map((leaf) => leaf.text)
    .join('\n');
}

/** The content a server returned to the model in `event`, or undefined when the event returns none. */
export function returnedContent(event: McpEvent, maxChars: number): ReturnedContent | undefined {
  const method = event.mcp.method?.name ?? event.event.action;
  const kind = event.mcp.message?.kind;
  const fromServer = event.mcp.direction === 'server_to_client';
  if (!fromServer) return undefined;
  let content: ReturnedContent | undefined;
  if (method === 'tools/call' && kind === 'response') {
    content = { kind: 'tool_result', origin: event.gen_ai?.tool?.name, text: joined(event.gen_ai?.tool?.call?.result, maxChars) };
  } else if (method === 'resources/read' && kind === 'response') {
    content = { kind: 'resource', origin: event.mcp.resource?.uri, text: joined(event.mcp.result, maxChars) };
  } else if (method === 'prompts/get' && kind === 'response') {
    content = { kind: 'prompt', origin: event.mcp.prompt?.name, text: joined(event.mcp.result, maxChars) };
  } else if (method === 'sampling/createMessage' && kind === 'request') {
    content = { kind: 'sampling', text: joined(event.mcp.params, maxChars) };
  }
  if (content === undefined || content.text.trim() === '') return undefined;
  if (content.origin === undefined) delete content.origin;
  return content;
}

/** The strings a tools/call sends, by argument key path (binary payloads included: data can hide anywhere). */
export function argumentStrings(event: McpEvent, maxChars: number): ArgumentString[] {
  return stringLeaves(event.gen_ai?.tool?.call?.arguments ?? {}, maxChars, new Set());
}
