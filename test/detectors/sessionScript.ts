/**
 * Multi-session MCP traffic for detector tests, written as data: each session (server, client, start time, what
 * the server says it is) runs steps — tool, prompt and resource listings, list_changed notifications, tool calls.
 * It becomes transcript records (docs/ARCHITECTURE.md) and then events through the same TranscriptReader and normalizer a
 * replay uses, so detectors meet exactly what workers see.
 */
import { transcriptEvents, type TranscriptLine } from '../../cli/ruleTesting/transcriptEvents.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

/** One thing that happens in a session. */
export interface SessionStep {
  /** A complete tools/list result. */
  tools?: unknown[];
  /** Paginated tools/list: the pages, in order (each a list of tools). */
  toolPages?: unknown[][];
  prompts?: unknown[];
  resources?: unknown[];
  /** A server notification (e.g. notifications/tools/list_changed), `repeat` times, 1 s apart. */
  notify?: string;
  repeat?: number;
  /** A tools/call and its text result. */
  call?: { name: string; arguments?: Record<string, unknown>; result?: string };
}

/** One session of a scripted host. */
export interface ScriptedSession {
  session: string;
  /** ISO start time; every message after it is 1 s later than the one before. */
  at: string;
  server: string;
  command?: string;
  url?: string;
  /** The host's client name (clientInfo.name); default "claude-desktop". */
  client?: string;
  hostSession?: string;
  /** The host the session runs on (host.hostname; a transcript alone always says "unknown"). */
  host?: string;
  serverInfo?: { name: string; version?: string };
  instructions?: string;
  steps?: SessionStep[];
}

const PROTOCOL = '2025-06-18';

/** The transcript records of the sessions, in time order across sessions. */
export function scriptTranscript(sessions: readonly ScriptedSession[]): TranscriptLine[] {
  const records: { ts: number; order: number; value: Record<string, unknown> }[] = [];
  let order = 0;
  for (const s of sessions) {
    let ts = Date.parse(s.at);
    if (Number.isNaN(ts)) throw new Error(`session ${s.session}: 'at' must be an ISO time (got ${s.at})`);
    const base = {
      session: s.session,
      server: s.server,
      ...(s.command === undefined ? {} : { server_command: s.command }),
      ...(s.url === undefined ? {} : { server_url: s.url }),
      ...(s.hostSession === undefined ? {} : { host_session: s.hostSession }),
    };
    let id = 0;
    const push = (direction: 'client_to_server' | 'server_to_client', message: Record<string, unknown>): void => {
      records.push({ ts, order: order++, value: { ts: new Date(ts).toISOString(), ...base, direction, message: { jsonrpc: '2.0', ...message } } });
      ts += 1000;
    };
    const exchange = (method: string, params: unknown, result: unknown): void => {
      const requestId = id++;
      push('client_to_server', { id: requestId, method, ...(params === undefined ? {} : { params }) });
      push('server_to_client', { id: requestId, result });
    };
    exchange(
      'initialize',
      { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: s.client ?? 'claude-desktop', version: '1.0.0' } },
      { protocolVersion: PROTOCOL, capabilities: { tools: { listChanged: true } }, serverInfo: s.serverInfo ?? { name: s.server, version: '1.0.0' }, ...(s.instructions === undefined ? {} : { instructions: s.instructions }) },
    );
    push('client_to_server', { method: 'notifications/initialized' });
    for (const step of s.steps ?? []) {
      if (step.tools) exchange('tools/list', undefined, { tools: step.tools });
      if (step.toolPages) {
        step.toolPages.forEach((page, i) => {
          const last = i === (step.toolPages as unknown[][]).length - 1;
          exchange('tools/list', i === 0 ? undefined : { cursor: `page-${i}` }, { tools: page, ...(last ? {} : { nextCursor: `page-${i + 1}` }) });
        });
      }
      if (step.prompts) exchange('prompts/list', undefined, { prompts: step.prompts });
      if (step.resources) exchange('resources/list', undefined, { resources: step.resources });
      if (step.notify) for (let i = 0; i < (step.repeat ?? 1); i++) push('server_to_client', { method: step.notify });
      if (step.call) exchange('tools/call', { name: step.call.name, arguments: step.call.arguments ?? {} }, { content: [{ type: 'text', text: step.call.result ?? 'ok' }] });
    }
  }
  records.sort((a, b) => a.ts - b.ts || a.order - b.order);
  return records.map((r, i) => ({ value: r.value, line: i + 1 }));
}

/** The events of the sessions, as a replay of their transcript named `file` would produce them (with their hosts). */
export function scriptEvents(file: string, sessions: readonly ScriptedSession[]): McpEvent[] {
  const lines = scriptTranscript(sessions);
  const events = transcriptEvents(file, lines);
  if (events.length !== lines.length) throw new Error(`expected one event per scripted message, got ${events.length} for ${lines.length}`);
  const hosts = new Map(sessions.filter((s) => s.host !== undefined).map((s) => [s.session, s.host as string]));
  return events.map((event, i) => {
    const host = hosts.get((lines[i]?.value as { session: string }).session);
    return host === undefined ? event : { ...event, host: { ...event.host, hostname: host } };
  });
}
