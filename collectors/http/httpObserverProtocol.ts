/**
 * Messages between the HTTP tap's forwarding thread and its observer worker. The forwarding thread
 * sends what it saw of each HTTP exchange (x = the exchange's number) after it has forwarded it;
 * the worker assembles messages, sessions and events from that.
 */

/** One route as the observer needs it (no URL objects: they do not cross threads). */
export interface ObservedRoute {
  name: string;
  upstream: string;
  remote: boolean;
  resources: string[];
}

/** The observer worker's start-up data. */
export interface HttpObserverConfig {
  home?: string;
  /** The proxy's own session (the forwarding thread notes its end if the observer does not record it). */
  sessionId: string;
  /** The proxy's own address, e.g. http://127.0.0.1:8080 (the server id of its own records). */
  listenUrl: string;
  /** When the proxy started listening (epoch ms). */
  startedAt: number;
  routes: ObservedRoute[];
  /** Bodies and SSE events larger than this are recorded as unparsed excerpts. */
  maxFrameBytes: number;
  sessionIdleTimeoutMs: number;
  /** How long the close gives a remote bus's spool to deliver (the spool keeps the rest: no loss). */
  flushTimeoutMs: number;
  maxQueuedEvents: number;
}

/** 0: client → upstream (request body); 1: upstream → client (response body, as forwarded). */
export type BodyDirection = 0 | 1;

/** The request headers the observer reads (lower-case names). */
export const OBSERVED_REQUEST_HEADERS = [
  'host',
  'user-agent',
  'content-type',
  'content-encoding',
  'accept',
  'authorization',
  'origin',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
] as const;

/** The response headers the observer reads (lower-case names). */
export const OBSERVED_RESPONSE_HEADERS = ['content-type', 'content-encoding', 'mcp-session-id', 'www-authenticate'] as const;

/** A request as received, once it was routed and forwarded. */
export interface RequestObservation {
  type: 'request';
  x: number;
  t: number;
  route: number;
  method: string;
  /** The request target as the client sent it (path and query). */
  target: string;
  /** The path and query it was forwarded with (the route's prefix stripped). */
  upstreamTarget: string;
  headers: Partial<Record<(typeof OBSERVED_REQUEST_HEADERS)[number], string>>;
  client: { ip: string; port: number };
  tls: boolean;
  httpVersion: string;
}

/** Observations, in the order the forwarding thread made them. */
export type ToObserver =
  | RequestObservation
  /** A body chunk: `length` bytes at `offset` of its batch's body bytes. */
  | { type: 'body'; x: number; dir: BodyDirection; t: number; offset: number; length: number }
  /** Bytes forwarded but not copied to the observer (it had fallen too far behind). */
  | { type: 'gap'; x: number; dir: BodyDirection; bytes: number }
  | { type: 'requestEnd'; x: number; t: number; bytes: number; complete: boolean }
  | { type: 'response'; x: number; t: number; status: number; headers: Partial<Record<(typeof OBSERVED_RESPONSE_HEADERS)[number], string>> }
  | { type: 'responseEnd'; x: number; t: number; bytes: number; complete: boolean; error?: string }
  /** The proxy answered the exchange itself (413, 502, 504) instead of the upstream. */
  | { type: 'proxyError'; x: number; t: number; status: number; reason: string }
  /** A legacy endpoint event that could not be mapped back through the proxy. */
  | { type: 'unmappedEndpoint'; x: number; t: number; endpoint: string }
  /** A request the route table refused (open-proxy or SSRF attempts, unknown hosts and paths). */
  | { type: 'rejected'; t: number; status: number; reason: string; method: string; target: string; host?: string; userAgent?: string; client: { ip: string; port: number }; tls: boolean }
  | { type: 'end'; t: number; unobservedBytes: number }
  /** The stop heard no progress for its stall bound: store nothing more, and report what was not stored. */
  | { type: 'giveUp' };

/** How far the observer has recorded: events made and stored, and the proxy session's next sequence. */
export interface ObserverProgress {
  events: number;
  stored: number;
  sequence: number;
}

/** What the observer reports when it is done. */
export interface HttpObserverSummary {
  events: number;
  dropped: number;
  sessions: number;
  /** Whether the proxy session's end (which counts the losses before it) reached the bus. */
  endStored: boolean;
  progress: ObserverProgress;
  lastError?: string;
}

/** What the forwarding thread posts: the observations of one turn of its event loop and their body bytes, back to back. */
export interface ObservationBatch {
  messages: ToObserver[];
  bodies: Uint8Array;
}

/** Acknowledged body bytes (refilling the forwarding thread's budget) with the observer's progress, and the final summary. */
export type FromObserver = { type: 'ack'; bytes: number; progress: ObserverProgress } | { type: 'done'; summary: HttpObserverSummary };
