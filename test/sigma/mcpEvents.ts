/** Builders of schema-valid MCP events for the Sigma engine tests; every event is checked with checkEvent. */
import { createHash } from 'node:crypto';
import { checkEvent } from '../../pipeline/schemaValidator.js';
import type { McpEvent, Tool } from '../../pipeline/types/mcpEvent.js';

type MessageKind = NonNullable<McpEvent['mcp']['message']>['kind'];

export interface EventSpec {
  method: string;
  kind: MessageKind;
  /** ISO time; default 2025-06-01T12:00:00.000Z. */
  at?: string;
  session?: string;
  server?: string;
  sequence?: number;
}

let nextSequence = 0;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    target[key] = isPlainObject(current) && isPlainObject(value) ? merge({ ...current }, value) : value;
  }
  return target;
}

/** An event for `spec`, with `fields` deep-merged in; throws if the result does not validate against the event schema. */
export function mcpEvent(spec: EventSpec, fields: Record<string, unknown> = {}): McpEvent {
  const session = spec.session ?? 'session-1';
  const sequence = spec.sequence ?? nextSequence++;
  const direction = spec.kind === 'request' && ['sampling/createMessage', 'elicitation/create', 'roots/list'].includes(spec.method) ? 'server_to_client' : spec.kind === 'request' ? 'client_to_server' : 'server_to_client';
  const base: Record<string, unknown> = {
    '@timestamp': spec.at ?? '2025-06-01T12:00:00.000Z',
    ecs: { version: '9.1.0' },
    event: { kind: 'event', category: ['api'], type: ['info'], action: spec.method, dataset: 'mcp.messages', id: `${session}:${sequence}`, sequence },
    data_stream: { type: 'logs', dataset: 'mcp.messages', namespace: 'default' },
    mcp: {
      method: { name: spec.method },
      session: { id: session },
      host_session: { id: 'dev-laptop:4242:2025-06-01T11:00:00Z' },
      direction,
      transport: 'stdio',
      message: { kind: spec.kind, size: 128 },
      server: { id: `npx -y ${spec.server ?? 'notes-server'}`, name: spec.server ?? 'notes-server', version: '1.0.0' },
    },
    host: { hostname: 'dev-laptop' },
    observer: { type: 'stdio_tap', product: 'tapwire', vendor: 'Tapwire', version: '0.1.0' },
    network: { transport: 'pipe' },
  };
  const event = merge(base, fields);
  const check = checkEvent(event);
  if (!check.valid) throw new Error(`test event is not schema-valid: ${check.errors.join('; ')}`);
  return event as unknown as McpEvent;
}

/** A tool as the collector records it (with its canonical hash). */
export function tool(name: string, fields: Partial<Omit<Tool, 'name' | 'hash'>> = {}): Tool {
  return { name, hash: createHash('sha256').update(name).digest('hex'), ...fields };
}

/** A tools/list response listing `tools`. */
export function toolList(tools: Tool[], spec: Partial<EventSpec> = {}): McpEvent {
  return mcpEvent({ method: 'tools/list', kind: 'response', ...spec }, { mcp: { tools } });
}

/** A tools/call request. */
export function toolCall(name: string, args: Record<string, unknown>, spec: Partial<EventSpec> = {}): McpEvent {
  return mcpEvent({ method: 'tools/call', kind: 'request', ...spec }, { gen_ai: { tool: { name, call: { id: 'call-1', arguments: args } } } });
}

/** A tools/call response carrying `result` (content, structuredContent, isError). */
export function toolResult(name: string, result: Record<string, unknown>, spec: Partial<EventSpec> = {}): McpEvent {
  return mcpEvent({ method: 'tools/call', kind: 'response', ...spec }, { gen_ai: { tool: { name, call: { id: 'call-1', result } } } });
}
