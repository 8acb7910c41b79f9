/**
 * The MCP sessions the HTTP tap has seen, each with its own normalizer (so responses correlate with
 * their requests and the negotiated version sticks). How HTTP traffic is grouped into sessions:
 * - Streamable HTTP with an Mcp-Session-Id (from the request, or the initialize response): one session
 *   per route and id. It ends on a successful DELETE, on the upstream's 404 for it (expired or unknown:
 *   the client re-initializes into a new session), when idle, or when the proxy stops. After a DELETE or a 404
 *   the client's late requests for the old id join the ended session.
 * - Legacy HTTP+SSE: one session per GET stream, keyed by the message endpoint its `endpoint` event
 *   names (the sessionId query parameter); the POSTs to that endpoint join it. It ends with the stream.
 * - Everything else (stateless servers, the 2026-07-28 POST-only form, OAuth discovery, requests
 *   refused before a session exists): one session per route, client address and User-Agent; an
 *   initialize request starts a new one, and it ends when idle.
 */
import { randomUUID } from 'node:crypto';
import type { McpEvent, Posture } from '../../pipeline/types/mcpEvent.js';
import { type FrameExtras, type SessionIdentity, SessionNormalizer } from '../normalizer.js';
import type { Redactor } from '../redaction.js';
import type { ObservedRoute } from './httpObserverProtocol.js';

/** Replayed SSE event ids remembered per session for de-duplication. */
const MAX_SEEN_EVENT_IDS = 4096;
/** Sessions kept at once; past this the least recently active is ended. */
const MAX_SESSIONS = 10_000;
/** Sessions ended by a DELETE or the upstream's 404 remembered for the late requests of their clients. */
const MAX_ENDED = 1024;

/** Where a session's traffic comes from, fixed when it starts. */
export interface SessionKey {
  key: string;
  route: number;
  transport: 'streamable_http' | 'sse';
  /** Mcp-Session-Id, or the legacy sessionId. */
  httpId?: string;
}

/** One MCP session seen through the proxy. */
export class HttpSession {
  readonly normalizer: SessionNormalizer;
  readonly key: SessionKey;
  /** HTTP exchanges of this session still open (a long-lived stream keeps the session alive). */
  openExchanges = 0;
  lastActive: number;
  readonly #seenEventIds = new Set<string>();
  readonly #findings = new Set<string>();

  /** A session with its normalizer; `lastActive` starts at `t`. */
  constructor(key: SessionKey, normalizer: SessionNormalizer, t: number) {
    this.key = key;
    this.normalizer = normalizer;
    this.lastActive = t;
  }

  /** Whether an SSE event id was already recorded in this session (a replay after resumption); remembers it. */
  replayed(eventId: string): boolean {
    if (this.#seenEventIds.has(eventId)) return true;
    this.#seenEventIds.add(eventId);
    if (this.#seenEventIds.size > MAX_SEEN_EVENT_IDS) this.#seenEventIds.delete(this.#seenEventIds.values().next().value!);
    return false;
  }

  /** Whether a posture finding (by its dedupe key) is new to this session; remembers it. */
  firstFinding(dedupeKey: string): boolean {
    if (this.#findings.has(dedupeKey)) return false;
    this.#findings.add(dedupeKey);
    return true;
  }
}

/** What the registry needs from the observer. */
export interface SessionRegistryOptions {
  routes: readonly ObservedRoute[];
  redactor: Redactor;
  context: SessionIdentity['context'];
  idleTimeoutMs: number;
  emit: (event: McpEvent) => void;
}

/** Finds or starts the session for each exchange, and ends sessions. */
export class HttpSessionRegistry {
  readonly #options: SessionRegistryOptions;
  readonly #sessions = new Map<string, HttpSession>();
  /** Legacy message endpoints (route + path and query as the client posts them) → session key. */
  readonly #legacyEndpoints = new Map<string, SessionKey>();
  /**
   * Sessions the client deleted or the upstream declared unknown (404), by key. Their end reaches the client's
   * other requests one at a time: its GET stream reconnects, or a request already in flight is answered, after
   * the DELETE or another request's 404 ended the session. Those requests join the ended session (its id, after
   * its session.end) instead of starting a session of their own for an id that no longer exists; how many there
   * are depends only on timing.
   */
  readonly #ended = new Map<string, HttpSession>();
  #started = 0;

  /** An empty registry. */
  constructor(options: SessionRegistryOptions) {
    this.#options = options;
  }

  /** Sessions started so far. */
  get started(): number {
    return this.#started;
  }

  /** The session for `key`, started (with session.start and route posture findings) if it is new. */
  session(key: SessionKey, t: number, extras: FrameExtras): HttpSession {
    const ended = this.#ended.get(key.key);
    if (ended) return ended;
    const existing = this.#sessions.get(key.key);
    if (existing) {
      // Map order doubles as recency order for eviction.
      this.#sessions.delete(key.key);
      this.#sessions.set(key.key, existing);
      existing.lastActive = t;
      return existing;
    }
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.values().next().value!;
      this.end(oldest, t, `more than ${MAX_SESSIONS} sessions open at once; the least recently active was ended`);
    }
    const route = this.#options.routes[key.route]!;
    const normalizer = new SessionNormalizer(
      {
        sessionId: randomUUID(),
        transport: key.transport,
        serverId: this.#options.redactor.text(route.upstream),
        serverName: route.name,
        ...(key.httpId !== undefined ? { httpSessionId: key.httpId } : {}),
        context: this.#options.context,
      },
      { redactor: this.#options.redactor },
    );
    const session = new HttpSession(key, normalizer, t);
    this.#sessions.set(key.key, session);
    this.#started++;
    const client = (extras.source as { ip?: string } | undefined)?.ip ?? 'unknown client';
    this.#options.emit(normalizer.lifecycle('session.start', t, { message: `MCP session with ${route.name} (${route.upstream}) from ${client} through the proxy`, extras }));
    if (route.remote && route.upstream.startsWith('http:')) {
      this.posture(session, t, extras, { finding: 'plaintext_upstream', detail: `${route.upstream} is reached over plaintext HTTP on a non-loopback address` });
    }
    return session;
  }

  /** The open session with this key, if any (never starts one). */
  existing(key: string): HttpSession | undefined {
    return this.#sessions.get(key);
  }

  /** Emits a posture finding once per session and dedupe key (default: finding + detail). */
  posture(session: HttpSession, t: number, extras: FrameExtras, posture: Posture, dedupeKey = `${posture.finding}:${posture.detail ?? ''}`): void {
    if (!session.firstFinding(dedupeKey)) return;
    this.#options.emit(session.normalizer.lifecycle('posture.finding', t, { message: `posture: ${posture.finding}${posture.detail ? ` (${posture.detail})` : ''}`, posture, extras }));
  }

  /** Remembers a legacy message endpoint so POSTs to it join its stream's session. */
  registerLegacyEndpoint(route: number, target: string, key: SessionKey): void {
    this.#legacyEndpoints.set(`${route} ${target}`, key);
  }

  /** The legacy session a POST target belongs to, if any. */
  legacyEndpoint(route: number, target: string): SessionKey | undefined {
    return this.#legacyEndpoints.get(`${route} ${target}`);
  }

  /** Ends a session's telemetry with session.end. */
  end(session: HttpSession, t: number, message: string, outcome: 'success' | 'failure' = 'success'): void {
    if (this.#sessions.get(session.key.key) !== session) return;
    this.#sessions.delete(session.key.key);
    for (const [endpoint, key] of this.#legacyEndpoints) if (key.key === session.key.key) this.#legacyEndpoints.delete(endpoint);
    this.#options.emit(session.normalizer.lifecycle('session.end', t, { message, outcome }));
  }

  /** Ends a session its client deleted, and keeps it for the client's late requests. */
  delete(session: HttpSession, t: number): void {
    this.#endForGood(session, t, 'the client ended the session (DELETE)', 'success');
  }

  /** Ends a session the upstream answered 404 for, and keeps it for its client's late requests. */
  expire(session: HttpSession, t: number): void {
    this.#endForGood(session, t, 'the upstream answered 404: the session expired or is unknown', 'failure');
  }

  #endForGood(session: HttpSession, t: number, message: string, outcome: 'success' | 'failure'): void {
    if (this.#sessions.get(session.key.key) !== session) return;
    this.end(session, t, message, outcome);
    this.#ended.set(session.key.key, session);
    if (this.#ended.size > MAX_ENDED) this.#ended.delete(this.#ended.keys().next().value!);
  }

  /** Ends sessions idle past the timeout (no open exchange, no traffic). */
  sweep(t: number): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.openExchanges === 0 && t - session.lastActive > this.#options.idleTimeoutMs) {
        this.end(session, t, `no traffic for ${Math.round(this.#options.idleTimeoutMs / 1000)} s`);
      }
    }
  }

  /** Ends every session (the proxy is stopping). */
  endAll(t: number, message: string): void {
    for (const session of [...this.#sessions.values()]) this.end(session, t, message);
  }
}
