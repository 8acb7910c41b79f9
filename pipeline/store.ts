/**
 * The result store contract: the embedded SQLite store and Elasticsearch both implement it. It holds
 * events, alerts, and the inventory views (sessions, servers, tools) derived from the events.
 */
import type { McpAlert } from './types/mcpAlert.js';
import type { McpEvent } from './types/mcpEvent.js';

export interface EventQuery {
  session?: string;
  /** A server name or server id. */
  server?: string;
  hostSession?: string;
  method?: string;
  tool?: string;
  kind?: 'request' | 'response' | 'notification' | 'error' | 'unparsed';
  /** Epoch milliseconds, inclusive. */
  since?: number;
  /** Epoch milliseconds, exclusive. */
  until?: number;
  limit?: number;
  order?: 'asc' | 'desc';
}

export interface AlertQuery {
  since?: number;
  until?: number;
  /** Minimum event.severity (21, 47, 73, 99). */
  minSeverity?: number;
  session?: string;
  server?: string;
  ruleId?: string;
  limit?: number;
}

export interface SessionSummary {
  id: string;
  hostSessionId?: string;
  serverId: string;
  serverName: string;
  serverVersion?: string;
  transport: string;
  clientName?: string;
  clientVersion?: string;
  protocolVersion?: string;
  hostname: string;
  pid?: number;
  firstSeen: number;
  lastSeen: number;
  events: number;
  ended: boolean;
}

export interface ServerSummary {
  id: string;
  name: string;
  reportedName?: string;
  version?: string;
  transport: string;
  firstSeen: number;
  lastSeen: number;
  sessions: number;
  events: number;
  hosts: string[];
}

export interface ToolSummary {
  serverId: string;
  serverName: string;
  name: string;
  hash: string;
  description?: string;
  firstSeen: number;
  lastSeen: number;
}

export interface IngestResult {
  inserted: number;
  duplicates: number;
}

export interface Store {
  /**
   * Stores events idempotently (by event.id). With `position`, records the source offset in the same
   * transaction, so a sink that restarts resumes exactly where its last write ended.
   */
  ingestEvents(events: readonly McpEvent[], position?: { source: string; offset: number }): Promise<IngestResult>;
  /** The last offset recorded for a source by ingestEvents, or -1. */
  position(source: string): Promise<number>;
  /** Stores alerts idempotently (by alert.fingerprint). */
  putAlerts(alerts: readonly McpAlert[]): Promise<IngestResult>;
  events(query: EventQuery): Promise<McpEvent[]>;
  alerts(query: AlertQuery): Promise<McpAlert[]>;
  sessions(query: { since?: number; server?: string; limit?: number }): Promise<SessionSummary[]>;
  servers(query: { since?: number }): Promise<ServerSummary[]>;
  tools(query: { server?: string }): Promise<ToolSummary[]>;
  close(): Promise<void>;
}
