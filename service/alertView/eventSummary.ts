/** One readable line per event, for the CLI's tables and the demo report. */
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

const compact = (value: unknown, max = 80): string => {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function resultText(result: unknown): string {
  const content = (result as { content?: { type?: string; text?: string }[] } | undefined)?.content;
  if (!Array.isArray(content)) return compact(result);
  return compact(content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join(' '));
}

/** Summarizes an event in one line: what was asked, what came back. */
export function summarizeEvent(event: McpEvent): string {
  const mcp = event.mcp;
  const kind = mcp.message?.kind;
  if (!kind) return event.message ?? event.event.action;
  if (kind === 'unparsed') return `unparsed ${mcp.message!.size} bytes: ${mcp.message!.parse_error ?? ''}`;
  if (kind === 'error') return `error ${event.error?.code ?? ''} ${compact(event.error?.message ?? '')}`;
  const tool = event.gen_ai?.tool;
  const ms = event.event.duration === undefined ? '' : ` (${(event.event.duration / 1e6).toFixed(1)} ms)`;
  switch (event.event.action) {
    case 'initialize':
      return kind === 'request'
        ? `client ${mcp.client?.name ?? '?'} ${mcp.client?.version ?? ''}`.trimEnd()
        : `server ${mcp.server.reported_name ?? mcp.server.name} ${mcp.server.version ?? ''}, protocol ${mcp.protocol?.version ?? '?'}${ms}`;
    case 'tools/list':
      return kind === 'response' ? `${mcp.tools?.length ?? 0} tools: ${(mcp.tools ?? []).map((t) => t.name).join(', ')}${ms}` : 'list tools';
    case 'tools/call':
      return kind === 'request'
        ? `${tool?.name ?? '?'} ${compact(tool?.call?.arguments ?? {}, 100)}`
        : `${tool?.name ?? '?'} → ${resultText(tool?.call?.result)}${ms}`;
    case 'resources/read':
      return `${mcp.resource?.uri ?? ''}${kind === 'response' ? ` → ${compact(mcp.result)}${ms}` : ''}`;
    case 'prompts/get':
      return `${mcp.prompt?.name ?? ''}${ms}`;
    default:
      return `${mcp.params === undefined ? '' : compact(mcp.params)}${mcp.result === undefined ? '' : compact(mcp.result)}${ms}`;
  }
}

/** An arrow for the direction of a message: host → server or server → host. */
export function directionArrow(event: McpEvent): string {
  if (!event.mcp.direction) return '·';
  return event.mcp.direction === 'client_to_server' ? '→' : '←';
}
