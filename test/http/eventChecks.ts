/** Assertions shared by the HTTP tap's tests: events against the schema, and events against what a client saw. */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { checkEvent } from '../../pipeline/schemaValidator.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { RecordedMessage } from '../support/recordingTransport.js';

/** The http.* fields the HTTP tap writes (the schema leaves http.* open, as ECS does). */
export interface HttpFields {
  request: { method: string; headers?: Record<string, string> };
  response?: { status_code: number };
}

/** An event's http.* fields. */
export function httpOf(event: McpEvent | undefined): HttpFields {
  return event?.http as HttpFields;
}

/** An event's url.* fields. */
export function urlOf(event: McpEvent | undefined): { path?: string; query?: string; original?: string } {
  return (event?.url ?? {}) as { path?: string; query?: string; original?: string };
}

/** Events of one server (route name), in bus order. */
export function eventsOf(events: McpEvent[], server: string): McpEvent[] {
  return events.filter((e) => e.mcp.server.name === server);
}

/** Events that record a JSON-RPC message (not lifecycle, not unparsed). */
export function messageEvents(events: McpEvent[]): McpEvent[] {
  return events.filter((e) => e.mcp.message !== undefined && e.mcp.message.kind !== 'unparsed');
}

/** Every event validates against the event schema. */
export function expectSchemaValid(events: McpEvent[]): void {
  for (const event of events) expect(checkEvent(event).errors, event.event.action).toEqual([]);
}

function shape(direction: string, message: JSONRPCMessage): string {
  const id = 'id' in message ? String(message.id) : '-';
  const kind = 'method' in message ? ('id' in message ? 'request' : 'notification') : 'error' in message ? 'error' : 'response';
  return `${direction}:${kind}:${id}:${'method' in message ? message.method : ''}`;
}

/** The sorted shapes of what a client sent and received, as directions on the wire. */
export function clientShapes(log: RecordedMessage[]): string[] {
  return log.map((m) => shape(m.direction === 'sent' ? 'client_to_server' : 'server_to_client', m.message)).sort();
}

/** The sorted shapes of the recorded message events. */
export function eventShapes(events: McpEvent[]): string[] {
  return messageEvents(events)
    .map((e) => {
      const kind = e.mcp.message!.kind;
      const id = e.jsonrpc?.request?.id ?? '-';
      return `${e.mcp.direction}:${kind}:${id}:${kind === 'request' || kind === 'notification' ? (e.mcp.method?.name ?? '') : ''}`;
    })
    .sort();
}

/** Every response and error answers a request recorded earlier in the same session. */
export function expectCorrelated(events: McpEvent[]): void {
  const requests = new Map<string, McpEvent>();
  for (const event of messageEvents(events)) {
    const kind = event.mcp.message!.kind;
    const id = event.jsonrpc?.request?.id;
    if (kind === 'request') requests.set(`${event.mcp.session.id} ${event.mcp.direction} ${id}`, event);
    if ((kind === 'response' || kind === 'error') && id !== undefined) {
      const opposite = event.mcp.direction === 'client_to_server' ? 'server_to_client' : 'client_to_server';
      const request = requests.get(`${event.mcp.session.id} ${opposite} ${id}`);
      expect(request, `response ${id} in ${event.mcp.session.id}`).toBeDefined();
      expect(event.mcp.message!.correlated).toBe(true);
      expect(event.event.action).toBe(request!.event.action);
    }
  }
}
