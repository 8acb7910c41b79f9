/** Shared test setup for the collector tests: a session identity, a normalizer, and a schema check on every event. */
import { expect } from 'vitest';
import { checkEvent } from '../../pipeline/schemaValidator.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { SessionNormalizer, type Direction, type NormalizerOptions, type SessionIdentity } from '../../collectors/normalizer.js';
import { Redactor } from '../../collectors/redaction.js';

export const testRedactor = new Redactor('collector-test-key');

/** A stdio session identity as the tap would build it. */
export function stdioIdentity(overrides: Partial<SessionIdentity> = {}): SessionIdentity {
  return {
    sessionId: 'sess-1',
    hostSessionId: 'host-1',
    transport: 'stdio',
    serverId: 'stdio:npx -y @modelcontextprotocol/server-memory',
    context: {
      host: { hostname: 'workstation-7', os: { platform: 'linux' } },
      observer: { type: 'stdio_tap', product: 'tapwire', vendor: 'Tapwire', version: '0.1.0' },
      network: { transport: 'pipe' },
      process: { pid: 4242, name: 'npx' },
    },
    ...overrides,
  };
}

/** Asserts every event matches the event schema, and returns them. */
export function schemaValid(events: McpEvent[]): McpEvent[] {
  for (const event of events) expect(checkEvent(event).errors, `event ${event.event.id}`).toEqual([]);
  return events;
}

/** A normalizer plus a clock, whose every event is schema-checked. */
export class TestSession {
  readonly normalizer: SessionNormalizer;
  now = 1_750_000_000_000;

  constructor(identity: SessionIdentity = stdioIdentity(), options: Partial<NormalizerOptions> = {}) {
    this.normalizer = new SessionNormalizer(identity, { redactor: testRedactor, ...options });
  }

  /** Feeds one frame `stepMs` after the previous one. */
  frame(direction: Direction, frame: Buffer | string | object, stepMs = 5): McpEvent[] {
    this.now += stepMs;
    const wire = typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame);
    return schemaValid(this.normalizer.frame(direction, wire, this.now));
  }

  /** Feeds one frame that must produce exactly one event. */
  one(direction: Direction, frame: Buffer | string | object, stepMs = 5): McpEvent {
    const events = this.frame(direction, frame, stepMs);
    expect(events).toHaveLength(1);
    return events[0] as McpEvent;
  }

  /** client → server. */
  c2s(frame: Buffer | string | object, stepMs?: number): McpEvent {
    return this.one('client_to_server', frame, stepMs);
  }

  /** server → client. */
  s2c(frame: Buffer | string | object, stepMs?: number): McpEvent {
    return this.one('server_to_client', frame, stepMs);
  }
}

/** JSON-RPC request. */
export const request = (id: string | number, method: string, params?: object) => ({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
/** JSON-RPC notification. */
export const notification = (method: string, params?: object) => ({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
/** JSON-RPC result response. */
export const response = (id: string | number, result: object) => ({ jsonrpc: '2.0', id, result });
/** JSON-RPC error response. */
export const errorResponse = (id: string | number | null, code: number, message: string, data?: unknown) => ({
  jsonrpc: '2.0',
  id,
  error: { code, message, ...(data === undefined ? {} : { data }) },
});
