/**
 * The shapes of the console API's answers (snake_case keys, ISO times, like the CLI's --json), shared by the server
 * that builds them and the pages that read them. Types only, importing nothing that needs Node, so the browser
 * program (console/ui) compiles against the same definitions.
 */
import type { CollapsedAlert, ReadableAlert } from '../../cli/alertView/alertView.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

/** GET /api/alerts */
export interface AlertList {
  alerts: CollapsedAlert[];
  /** The limit cut the list. */
  truncated: boolean;
}

/** One row of a side-by-side diff. */
export interface DiffRow {
  kind: 'context' | 'changed' | 'removed' | 'added' | 'gap';
  left?: { line: number; text: string };
  right?: { line: number; text: string };
}

/** A unified diff laid out side by side. */
export interface SideBySide {
  header: { left: string; right: string };
  rows: DiffRow[];
}

/** GET /api/alerts/ID (ID: the alert id or a unique prefix of it) */
export interface AlertDetail extends ReadableAlert {
  description: string;
  /** The matched values in full (as stored: redacted and bounded by the detector), for highlighting. */
  matched_full: { field: string; value?: string }[];
  details: Record<string, unknown>;
  /** The drift diff, side by side, when the alert carries one. */
  diff?: SideBySide;
  approve?: string;
  evidence: McpEvent[];
  /** Evidence ids the store no longer holds. */
  missing_evidence: string[];
}

/** One server session of a host session: a column of the timeline. */
export interface Lane {
  session: string;
  server: string;
  server_version?: string;
  transport: string;
  focus: boolean;
}

/** One request with its response, or a lone notification or lifecycle record. */
export interface Exchange {
  id: string;
  session: string;
  '@timestamp': string;
  direction?: 'client_to_server' | 'server_to_client';
  method: string;
  kind: string;
  summary: string;
  tool?: string;
  arguments?: unknown;
  result?: unknown;
  error?: { code?: string; message?: string };
  /** Milliseconds from request to response. */
  duration_ms?: number;
  /** The request got no response (yet). */
  unanswered?: boolean;
  event_ids: string[];
  /** Ids of the alerts whose evidence includes one of its events. */
  alerts: string[];
}

/** A cross-server flow a detector found: from the exchange whose content travelled to the call it reached. */
export interface Flow {
  alert: string;
  rule: string;
  severity: string;
  from: string;
  to: string;
}

/** GET /api/sessions/ID */
export interface Timeline {
  session: string;
  host_session?: string;
  host?: string;
  lanes: Lane[];
  exchanges: Exchange[];
  flows: Flow[];
  alerts: ReadableAlert[];
}

export interface InventoryTool {
  name: string;
  hash: string;
  description?: string;
  first_seen: string;
  last_seen: string;
  /** The drift pin of the tool's name: where it came from (first-use, inventory, approved), and whether this version is it. */
  pin?: { hash: string; source: string; since: string; matches: boolean };
}

/** GET /api/inventory → { servers: InventoryServer[] } */
export interface InventoryServer {
  id: string;
  name: string;
  reported_name?: string;
  version?: string;
  transport: string;
  first_seen: string;
  last_seen: string;
  sessions: number;
  events: number;
  hosts: string[];
  pending_changes: number;
  tools: InventoryTool[];
}

/** GET /api/changes → { changes: ReviewItem[] }: a changed definition waiting for a decision. */
export interface ReviewItem {
  server_id: string;
  server_name: string;
  key: string;
  item: string;
  kind: string;
  name: string;
  change: string;
  /** The presented definition's hash: the one a decision applies to. */
  hash: string;
  pinned_hash?: string;
  pin_source?: string;
  first_seen: string;
  sessions: string[];
  diff: SideBySide;
  /** The equivalent command line. */
  command: string;
}

/** POST /api/decisions */
export interface DecisionRequest {
  server_id: string;
  key: string;
  hash: string;
  decision: 'approve' | 'reject';
}
