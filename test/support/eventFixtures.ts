/** Builds schema-valid McpEvent objects for tests; each field a test does not name gets a plain, valid value. */
import { createHash } from 'node:crypto';
import type { McpEvent, Tool } from '../../pipeline/types/mcpEvent.js';

export interface EventSpec {
  session?: string;
  sequence?: number;
  hostSession?: string;
  serverId?: string;
  serverName?: string;
  serverVersion?: string;
  reportedName?: string;
  /** The MCP method; also event.action unless `action` is given. */
  method?: string;
  /** event.action for lifecycle events (session.start, session.end); such events carry no method. */
  action?: string;
  kind?: 'request' | 'response' | 'notification' | 'error' | 'unparsed';
  direction?: 'client_to_server' | 'server_to_client';
  tool?: string;
  tools?: Tool[];
  clientName?: string;
  /** Used with clientName (default 1.0.0). */
  clientVersion?: string;
  protocolVersion?: string;
  hostname?: string;
  pid?: number;
  transport?: 'stdio' | 'streamable_http' | 'sse';
  /** ISO-8601 string or epoch milliseconds. */
  time?: string | number;
}

/** A schema-valid event; event.id is `<session>:<sequence>` as collectors make it. */
export function makeEvent(spec: EventSpec = {}): McpEvent {
  const session = spec.session ?? 'session-1';
  const sequence = spec.sequence ?? 0;
  const transport = spec.transport ?? 'stdio';
  const lifecycle = spec.action !== undefined;
  const method = lifecycle ? spec.method : (spec.method ?? 'tools/call');
  const event: McpEvent = {
    '@timestamp': new Date(spec.time ?? Date.UTC(2026, 0, 1) + sequence).toISOString(),
    ecs: { version: '9.0.0' },
    event: {
      kind: 'event',
      category: lifecycle ? ['session'] : ['api'],
      type: lifecycle ? ['info'] : ['protocol'],
      action: spec.action ?? method ?? 'unknown',
      dataset: 'mcp.messages',
      id: `${session}:${sequence}`,
      sequence,
    },
    data_stream: { type: 'logs', dataset: 'mcp.messages', namespace: 'default' },
    mcp: {
      session: { id: session },
      transport,
      server: {
        id: spec.serverId ?? 'npx -y @modelcontextprotocol/server-memory',
        name: spec.serverName ?? 'memory',
        ...(spec.serverVersion === undefined ? {} : { version: spec.serverVersion }),
        ...(spec.reportedName === undefined ? {} : { reported_name: spec.reportedName }),
      },
      ...(method === undefined ? {} : { method: { name: method } }),
      ...(lifecycle ? {} : { direction: spec.direction ?? 'client_to_server' }),
      ...(lifecycle ? {} : { message: { kind: spec.kind ?? 'request', size: 64 } }),
      ...(spec.hostSession === undefined ? {} : { host_session: { id: spec.hostSession } }),
      ...(spec.protocolVersion === undefined ? {} : { protocol: { version: spec.protocolVersion } }),
      ...(spec.clientName === undefined ? {} : { client: { name: spec.clientName, version: spec.clientVersion ?? '1.0.0' } }),
      ...(spec.tools === undefined ? {} : { tools: spec.tools }),
    },
    host: { hostname: spec.hostname ?? 'workstation-1' },
    observer: { type: 'stdio_tap', product: 'tapwire', vendor: 'Tapwire', version: '0.1.0' },
    network: { transport: transport === 'stdio' ? 'pipe' : 'tcp' },
  };
  if (spec.tool !== undefined) event.gen_ai = { tool: { name: spec.tool } };
  if (spec.pid !== undefined) event.process = { pid: spec.pid };
  return event;
}

/** A tools/list tool entry with a SHA-256 hash of its name and description. */
export function makeTool(name: string, description: string): Tool {
  const hash = createHash('sha256').update(JSON.stringify({ name, description })).digest('hex');
  return { name, description, hash };
}

/** `count` consecutive events of one session (sequences from `spec.sequence ?? 0`), one millisecond apart. */
export function makeSessionEvents(count: number, spec: EventSpec = {}): McpEvent[] {
  const first = spec.sequence ?? 0;
  const start = typeof spec.time === 'string' ? Date.parse(spec.time) : (spec.time ?? Date.UTC(2026, 0, 1));
  return Array.from({ length: count }, (_, i) => makeEvent({ ...spec, sequence: first + i, time: start + i }));
}
