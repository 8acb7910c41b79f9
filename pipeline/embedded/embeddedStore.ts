/**
 * The embedded store: events, alerts and the inventory views (sessions, servers, tools) in one SQLite file. The views
 * are maintained at ingest, in the same transaction as the events they summarise, so they never disagree with them.
 */
import type { Transaction } from 'better-sqlite3';
import type {
  AlertQuery,
  EventQuery,
  IngestResult,
  ServerSummary,
  SessionSummary,
  Store,
  ToolSummary,
} from '../store.js';
import type { McpAlert } from '../types/mcpAlert.js';
import type { McpEvent } from '../types/mcpEvent.js';
import { encodeEvent } from '../recordCodec.js';
import { openSqliteDatabase, type OpenSqliteOptions, type SqliteDatabase, type SqliteStatement } from './sqliteDatabase.js';
import { ViewAccumulator, type ServerView, type SessionView } from './viewAccumulator.js';

const STORE_SCHEMA = {
  applicationId: 0x54_57_53_31, // "TWS1"
  role: 'store',
  // Each event inserts into six b-trees, and each commit writes every page it dirtied to the WAL (and a checkpoint
  // writes it again): 32 KiB pages take a batch's index inserts to about a quarter of the pages 4 KiB ones did, and
  // ingest went from 0.49× to 0.78× of a bare id+json insert in the same run (BENCHMARKS.md, embedded loops).
  pageSize: 32768,
  migrations: [
    `CREATE TABLE events (
       id TEXT PRIMARY KEY,
       ts INTEGER NOT NULL,
       session_id TEXT NOT NULL,
       host_session_id TEXT,
       server_id TEXT NOT NULL,
       server_name TEXT NOT NULL,
       method TEXT,
       kind TEXT,
       direction TEXT,
       tool_name TEXT,
       sequence INTEGER NOT NULL,
       json TEXT NOT NULL
     );
     CREATE INDEX events_by_session ON events (session_id, sequence);
     CREATE INDEX events_by_server ON events (server_id, ts);
     CREATE INDEX events_by_ts ON events (ts);
     CREATE INDEX events_by_method ON events (method, ts);
     CREATE INDEX events_by_tool ON events (tool_name, ts) WHERE tool_name IS NOT NULL;

     CREATE TABLE alerts (
       fingerprint TEXT PRIMARY KEY,
       ts INTEGER NOT NULL,
       severity INTEGER NOT NULL,
       rule_id TEXT NOT NULL,
       session_id TEXT,
       server_id TEXT,
       server_name TEXT,
       json TEXT NOT NULL
     );
     CREATE INDEX alerts_by_ts ON alerts (ts);

     CREATE TABLE sessions (
       id TEXT PRIMARY KEY,
       host_session_id TEXT,
       server_id TEXT NOT NULL,
       server_name TEXT NOT NULL,
       server_version TEXT,
       transport TEXT NOT NULL,
       client_name TEXT,
       client_version TEXT,
       protocol_version TEXT,
       hostname TEXT NOT NULL,
       pid INTEGER,
       first_seen INTEGER NOT NULL,
       last_seen INTEGER NOT NULL,
       events INTEGER NOT NULL,
       ended INTEGER NOT NULL
     ) WITHOUT ROWID;

     CREATE TABLE servers (
       id TEXT PRIMARY KEY,
       name TEXT NOT NULL,
       reported_name TEXT,
       version TEXT,
       transport TEXT NOT NULL,
       first_seen INTEGER NOT NULL,
       last_seen INTEGER NOT NULL,
       sessions INTEGER NOT NULL,
       events INTEGER NOT NULL
     ) WITHOUT ROWID;
     -- Every name a server id has carried, so a query by name finds the server even after it was renamed.
     CREATE TABLE server_names (name TEXT NOT NULL, server_id TEXT NOT NULL, PRIMARY KEY (name, server_id)) WITHOUT ROWID;
     CREATE TABLE server_hosts (server_id TEXT NOT NULL, hostname TEXT NOT NULL, PRIMARY KEY (server_id, hostname)) WITHOUT ROWID;

     CREATE TABLE tools (
       server_id TEXT NOT NULL,
       name TEXT NOT NULL,
       hash TEXT NOT NULL,
       server_name TEXT NOT NULL,
       description TEXT,
       first_seen INTEGER NOT NULL,
       last_seen INTEGER NOT NULL,
       PRIMARY KEY (server_id, name, hash)
     ) WITHOUT ROWID;

     CREATE TABLE positions (source TEXT PRIMARY KEY, "offset" INTEGER NOT NULL) WITHOUT ROWID;`,
  ],
} as const;

/** WAL size at which a commit checkpoints (wal_autocheckpoint, converted to the file's pages). */
const CHECKPOINT_WAL_BYTES = 40 * 1024 * 1024;

/** Server ids that a name-or-id filter (parameter @server) selects. */
const SERVER_IDS = '(SELECT server_id FROM server_names WHERE name = @server UNION SELECT @server)';

interface SessionRow {
  id: string;
  host_session_id: string | null;
  server_id: string;
  server_name: string;
  server_version: string | null;
  transport: string;
  client_name: string | null;
  client_version: string | null;
  protocol_version: string | null;
  hostname: string;
  pid: number | null;
  first_seen: number;
  last_seen: number;
  events: number;
  ended: number;
}

interface ServerRow {
  id: string;
  name: string;
  reported_name: string | null;
  version: string | null;
  transport: string;
  first_seen: number;
  last_seen: number;
  sessions: number;
  events: number;
  hosts: string;
}

interface ToolRow {
  server_id: string;
  server_name: string;
  name: string;
  hash: string;
  description: string | null;
  first_seen: number;
  last_seen: number;
}

/** The embedded Store over one SQLite file (the `store` path of the Tapwire home). */
export class EmbeddedStore implements Store {
  private readonly db: SqliteDatabase;
  private readonly write: Record<
    | 'event'
    | 'sessionExists'
    | 'session'
    | 'server'
    | 'serverName'
    | 'serverHost'
    | 'tool'
    | 'position'
    | 'alert',
    SqliteStatement
  >;
  private readonly readPosition: SqliteStatement;
  private readonly queries = new Map<string, SqliteStatement>();
  private readonly ingestBatch: Transaction<
    (events: readonly McpEvent[], position?: { source: string; offset: number }) => IngestResult
  >;
  private readonly putAlertBatch: Transaction<(alerts: readonly McpAlert[]) => IngestResult>;

  /** Opens (creating if needed) the store file. */
  constructor(readonly file: string, options: OpenSqliteOptions = {}) {
    this.db = openSqliteDatabase(file, STORE_SCHEMA, options);
    // Every event touches six b-trees (the table and its indexes). A 64 MiB page cache keeps their hot pages in memory,
    // and checkpointing every ~40 MiB of WAL instead of 4 MiB writes each often-updated index page back once, not
    // many times: together they took ingest from about 48k to 62k+ events/s in bench measurements on a 2-core machine.
    // The checkpoint interval is in pages, so it follows the file's page size (4 KiB in stores made before 32 KiB).
    this.db.pragma('cache_size = -65536');
    this.db.pragma(`wal_autocheckpoint = ${Math.ceil(CHECKPOINT_WAL_BYTES / (this.db.pragma('page_size', { simple: true }) as number))}`);
    this.write = {
      event: this.db.prepare(
        `INSERT INTO events (id, ts, session_id, host_session_id, server_id, server_name, method, kind, direction,
                             tool_name, sequence, json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      ),
      sessionExists: this.db.prepare('SELECT 1 FROM sessions WHERE id = ?').pluck(),
      session: this.db.prepare(
        `INSERT INTO sessions (id, host_session_id, server_id, server_name, server_version, transport, client_name,
                               client_version, protocol_version, hostname, pid, first_seen, last_seen, events, ended)
         VALUES (@id, @hostSessionId, @serverId, @serverName, @serverVersion, @transport, @clientName, @clientVersion,
                 @protocolVersion, @hostname, @pid, @firstSeen, @lastSeen, @events, @ended)
         ON CONFLICT (id) DO UPDATE SET
           host_session_id = coalesce(excluded.host_session_id, host_session_id),
           server_id = excluded.server_id,
           server_name = excluded.server_name,
           server_version = coalesce(excluded.server_version, server_version),
           transport = excluded.transport,
           client_name = coalesce(excluded.client_name, client_name),
           client_version = coalesce(excluded.client_version, client_version),
           protocol_version = coalesce(excluded.protocol_version, protocol_version),
           hostname = excluded.hostname,
           pid = coalesce(excluded.pid, pid),
           first_seen = min(first_seen, excluded.first_seen),
           last_seen = max(last_seen, excluded.last_seen),
           events = events + excluded.events,
           ended = max(ended, excluded.ended)`,
      ),
      server: this.db.prepare(
        `INSERT INTO servers (id, name, reported_name, version, transport, first_seen, last_seen, sessions, events)
         VALUES (@id, @name, @reportedName, @version, @transport, @firstSeen, @lastSeen, @newSessions, @events)
         ON CONFLICT (id) DO UPDATE SET
           name = excluded.name,
           reported_name = coalesce(excluded.reported_name, reported_name),
           version = coalesce(excluded.version, version),
           transport = excluded.transport,
           first_seen = min(first_seen, excluded.first_seen),
           last_seen = max(last_seen, excluded.last_seen),
           sessions = sessions + excluded.sessions,
           events = events + excluded.events`,
      ),
      serverName: this.db.prepare('INSERT OR IGNORE INTO server_names (name, server_id) VALUES (?, ?)'),
      serverHost: this.db.prepare('INSERT OR IGNORE INTO server_hosts (server_id, hostname) VALUES (?, ?)'),
      tool: this.db.prepare(
        `INSERT INTO tools (server_id, name, hash, server_name, description, first_seen, last_seen)
         VALUES (@serverId, @name, @hash, @serverName, @description, @firstSeen, @lastSeen)
         ON CONFLICT (server_id, name, hash) DO UPDATE SET
           server_name = excluded.server_name,
           description = coalesce(excluded.description, description),
           first_seen = min(first_seen, excluded.first_seen),
           last_seen = max(last_seen, excluded.last_seen)`,
      ),
      position: this.db.prepare(
        `INSERT INTO positions (source, "offset") VALUES (?, ?)
         ON CONFLICT (source) DO UPDATE SET "offset" = excluded."offset"`,
      ),
      alert: this.db.prepare(
        `INSERT INTO alerts (fingerprint, ts, severity, rule_id, session_id, server_id, server_name, json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING`,
      ),
    };
    this.readPosition = this.db.prepare('SELECT "offset" FROM positions WHERE source = ?').pluck();
    this.ingestBatch = this.db.transaction((events, position) => this.applyEvents(events, position));
    this.putAlertBatch = this.db.transaction((alerts) => this.applyAlerts(alerts));
  }

  /** Stores events idempotently by event.id, and `position` with them in one transaction. */
  async ingestEvents(events: readonly McpEvent[], position?: { source: string; offset: number }): Promise<IngestResult> {
    return this.ingestBatch.immediate(events, position);
  }

  /** The last offset recorded for a source by ingestEvents, or -1. */
  async position(source: string): Promise<number> {
    return (this.readPosition.get(source) as number | undefined) ?? -1;
  }

  /** Stores alerts idempotently by alert.fingerprint. */
  async putAlerts(alerts: readonly McpAlert[]): Promise<IngestResult> {
    return this.putAlertBatch.immediate(alerts);
  }

  /**
   * Events matching every given filter: by sequence when the query names a session, else by time (then ingest order).
   * `server` matches a server id or any name that id has carried.
   */
  async events(query: EventQuery): Promise<McpEvent[]> {
    const conditions = new Conditions()
      .add('session_id = @session', 'session', query.session)
      .add(`server_id IN ${SERVER_IDS}`, 'server', query.server)
      .add('host_session_id = @hostSession', 'hostSession', query.hostSession)
      .add('method = @method', 'method', query.method)
      .add('tool_name = @tool', 'tool', query.tool)
      .add('kind = @kind', 'kind', query.kind)
      .add('ts >= @since', 'since', query.since)
      .add('ts < @until', 'until', query.until);
    const direction = query.order === 'desc' ? 'DESC' : 'ASC';
    const order = query.session === undefined ? `ts ${direction}, rowid ${direction}` : `sequence ${direction}`;
    const sql = `SELECT json FROM events ${conditions.where()} ORDER BY ${order}${conditions.limit(query.limit)}`;
    const rows = this.query(sql).pluck().all(conditions.params) as string[];
    return rows.map((json) => JSON.parse(json) as McpEvent);
  }

  /** Alerts matching every given filter, newest first. */
  async alerts(query: AlertQuery): Promise<McpAlert[]> {
    const conditions = new Conditions()
      .add('ts >= @since', 'since', query.since)
      .add('ts < @until', 'until', query.until)
      .add('severity >= @minSeverity', 'minSeverity', query.minSeverity)
      .add('session_id = @session', 'session', query.session)
      .add(`(server_name = @server OR server_id IN ${SERVER_IDS})`, 'server', query.server)
      .add('rule_id = @ruleId', 'ruleId', query.ruleId);
    const sql = `SELECT json FROM alerts ${conditions.where()} ORDER BY ts DESC, fingerprint${conditions.limit(query.limit)}`;
    const rows = this.query(sql).pluck().all(conditions.params) as string[];
    return rows.map((json) => JSON.parse(json) as McpAlert);
  }

  /** Sessions, most recently active first. */
  async sessions(query: { since?: number; server?: string; limit?: number }): Promise<SessionSummary[]> {
    const conditions = new Conditions()
      .add('last_seen >= @since', 'since', query.since)
      .add(`server_id IN ${SERVER_IDS}`, 'server', query.server);
    const sql = `SELECT * FROM sessions ${conditions.where()} ORDER BY last_seen DESC, id${conditions.limit(query.limit)}`;
    return (this.query(sql).all(conditions.params) as SessionRow[]).map(sessionSummary);
  }

  /** Servers by name, with the hosts each was seen on. */
  async servers(query: { since?: number }): Promise<ServerSummary[]> {
    const conditions = new Conditions().add('last_seen >= @since', 'since', query.since);
    const sql = `SELECT servers.*, (SELECT json_group_array(hostname) FROM server_hosts WHERE server_id = servers.id) AS hosts
                 FROM servers ${conditions.where()} ORDER BY name, id`;
    return (this.query(sql).all(conditions.params) as ServerRow[]).map(serverSummary);
  }

  /** Tools seen in tools/list results, one per server, name and definition hash. */
  async tools(query: { server?: string }): Promise<ToolSummary[]> {
    const conditions = new Conditions().add(`server_id IN ${SERVER_IDS}`, 'server', query.server);
    const sql = `SELECT * FROM tools ${conditions.where()} ORDER BY server_name, server_id, name, first_seen`;
    return (this.query(sql).all(conditions.params) as ToolRow[]).map(toolSummary);
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    this.db.close();
  }

  private applyEvents(events: readonly McpEvent[], position?: { source: string; offset: number }): IngestResult {
    const views = new ViewAccumulator();
    let inserted = 0;
    forEachInBatch(
      events,
      (event) => `event ${(event as Partial<McpEvent>).event?.id ?? '(no event.id)'}`,
      (event) => {
        const ts = timestamp(event['@timestamp']);
        if (!this.insertEvent(event, ts)) return;
        inserted += 1;
        views.add(event, ts);
      },
    );
    for (const session of views.sessions.values()) this.writeSession(session, views);
    for (const server of views.servers.values()) this.writeServer(server);
    for (const tool of views.tools.values()) this.write.tool.run(tool);
    if (position) this.write.position.run(position.source, position.offset);
    return { inserted, duplicates: events.length - inserted };
  }

  /** Inserts one event row; false when an event with that id is already stored. */
  private insertEvent(event: McpEvent, ts: number): boolean {
    const result = this.write.event.run(
      event.event.id,
      ts,
      event.mcp.session.id,
      event.mcp.host_session?.id ?? null,
      event.mcp.server.id,
      event.mcp.server.name,
      event.mcp.method?.name ?? event.event.action,
      event.mcp.message?.kind ?? null,
      event.mcp.direction ?? null,
      event.gen_ai?.tool?.name ?? null,
      event.event.sequence,
      encodeEvent(event),
    );
    return result.changes === 1;
  }

  private writeSession(session: SessionView, views: ViewAccumulator): void {
    if (this.write.sessionExists.get(session.id) === undefined) views.countNewSession(session.serverId);
    this.write.session.run({ ...session, ended: session.ended ? 1 : 0 });
  }

  private writeServer(server: ServerView): void {
    const { names, hosts, ...row } = server;
    this.write.server.run(row);
    for (const name of names) this.write.serverName.run(name, server.id);
    for (const host of hosts) this.write.serverHost.run(server.id, host);
  }

  private applyAlerts(alerts: readonly McpAlert[]): IngestResult {
    let inserted = 0;
    forEachInBatch(
      alerts,
      (alert) => `alert ${(alert as Partial<McpAlert>).alert?.fingerprint ?? '(no alert.fingerprint)'}`,
      (alert) => {
        const result = this.write.alert.run(
          alert.alert.fingerprint,
          timestamp(alert['@timestamp']),
          alert.event.severity,
          alert.rule.id,
          alert.mcp?.session?.id ?? null,
          alert.mcp?.server?.id ?? null,
          alert.mcp?.server?.name ?? null,
          JSON.stringify(alert),
        );
        inserted += result.changes;
      },
    );
    return { inserted, duplicates: alerts.length - inserted };
  }

  private query(sql: string): SqliteStatement {
    let statement = this.queries.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.queries.set(sql, statement);
    }
    return statement;
  }
}

/** Applies `store` to each item; a failure names the item (index and id) and rolls back the whole batch. */
function forEachInBatch<T>(items: readonly T[], name: (item: T) => string, store: (item: T) => void): void {
  items.forEach((item, index) => {
    try {
      store(item);
    } catch (error) {
      throw new Error(`store: ${name(item)} (item ${index} of the batch) cannot be stored: ${(error as Error).message}`, {
        cause: error,
      });
    }
  });
}

function timestamp(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`@timestamp ${JSON.stringify(value)} is not an ISO-8601 time`);
  return ms;
}

/** The WHERE and LIMIT of a query, built from the filters a caller set; unset filters add nothing. */
class Conditions {
  readonly params: Record<string, unknown> = {};
  private readonly clauses: string[] = [];

  /** Adds `clause`, bound to `value` as @name, unless the value is undefined. */
  add(clause: string, name: string, value: unknown): this {
    if (value === undefined) return this;
    this.clauses.push(clause);
    this.params[name] = value;
    return this;
  }

  /** The WHERE clause, or nothing. */
  where(): string {
    return this.clauses.length === 0 ? '' : `WHERE ${this.clauses.join(' AND ')}`;
  }

  /** A LIMIT clause bound to `limit`, or nothing. */
  limit(limit: number | undefined): string {
    if (limit === undefined) return '';
    this.params.limit = limit;
    return ' LIMIT @limit';
  }
}

function sessionSummary(row: SessionRow): SessionSummary {
  return {
    id: row.id,
    hostSessionId: row.host_session_id ?? undefined,
    serverId: row.server_id,
    serverName: row.server_name,
    serverVersion: row.server_version ?? undefined,
    transport: row.transport,
    clientName: row.client_name ?? undefined,
    clientVersion: row.client_version ?? undefined,
    protocolVersion: row.protocol_version ?? undefined,
    hostname: row.hostname,
    pid: row.pid ?? undefined,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    events: row.events,
    ended: row.ended === 1,
  };
}

function serverSummary(row: ServerRow): ServerSummary {
  return {
    id: row.id,
    name: row.name,
    reportedName: row.reported_name ?? undefined,
    version: row.version ?? undefined,
    transport: row.transport,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    sessions: row.sessions,
    events: row.events,
    hosts: (JSON.parse(row.hosts) as string[]).sort(),
  };
}

function toolSummary(row: ToolRow): ToolSummary {
  return {
    serverId: row.server_id,
    serverName: row.server_name,
    name: row.name,
    hash: row.hash,
    description: row.description ?? undefined,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
  };
}
