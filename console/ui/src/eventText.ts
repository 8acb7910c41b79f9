/** What an evidence event says, as plain text: tool arguments and results, listed definitions, errors. */
import type { McpEvent } from '../../../pipeline/types/mcpEvent.js';
import { readable } from './dom.js';

function contentText(result: unknown): string | undefined {
  const content = (result as { content?: { type?: string; text?: string }[] } | undefined)?.content;
  if (!Array.isArray(content)) return undefined;
  return content.map((c) => (c.type === 'text' ? (c.text ?? '') : `[${c.type ?? 'content'}]`)).join('\n');
}

export function eventText(event: McpEvent): string {
  const call = event.gen_ai?.tool?.call;
  const parts: string[] = [];
  if (call?.arguments !== undefined) parts.push(`arguments:\n${readable(call.arguments)}`);
  if (call?.result !== undefined) parts.push(`result:\n${contentText(call.result) ?? readable(call.result)}`);
  for (const tool of event.mcp.tools ?? []) parts.push(`tool ${tool.name}:\n${tool.description ?? ''}`);
  if (parts.length === 0 && event.mcp.params !== undefined) parts.push(`params:\n${readable(event.mcp.params)}`);
  if (parts.length === 0 && event.mcp.result !== undefined) parts.push(`result:\n${contentText(event.mcp.result) ?? readable(event.mcp.result)}`);
  if (event.error?.message) parts.push(`error: ${event.error.message}`);
  if (parts.length === 0 && event.message) parts.push(event.message);
  return parts.join('\n\n');
}
