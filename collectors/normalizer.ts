/**
 * Frame → event normalization for one MCP session: decodes transport frames, recognises JSON-RPC,
 * correlates responses with requests, extracts per-method fields, remembers what the session
 * negotiated, and redacts and bounds everything before it leaves the collector. Never throws on
 * traffic: whatever arrives becomes at least an `unparsed` event.
 */
import { isoTimestamp } from '../pipeline/eventTime.js';
import type { Auth, McpEvent, Posture } from '../pipeline/types/mcpEvent.js';
import { classifyMessage, describeJsonError, type JsonRpcError, type JsonRpcMessage } from './jsonRpcMessage.js';
import {
  extractParams,
  extractResult,
  methodTraits,
  PayloadShaper,
  TruncationTracker,
  UNPARSED_TRAITS,
  type EventCategory,
  type EventType,
  type Extraction,
  type PeerInfo,
  type SessionFacts,
} from './methodCatalog.js';
import { setJsonProperty } from './jsonProperty.js';
import { boundString, capNesting, type PayloadLimits } from './payloadBounds.js';
import { PendingRequests, type Direction, type PendingRequestsState } from './pendingRequests.js';
import type { Redactor } from './redaction.js';

export type { Direction } from './pendingRequests.js';
export type { PeerInfo } from './methodCatalog.js';

/** The ECS version the event schema follows. */
export const ECS_VERSION = '9.1.0';

/** Who and where a session is: fixed for its lifetime and stamped on every event. */
export interface SessionIdentity {
  /** Tap-assigned. */
  sessionId: string;
  hostSessionId?: string;
  transport: 'stdio' | 'streamable_http' | 'sse';
  /** Stable identity: stdio "stdio:<command> <args>" (redacted), or the URL. */
  serverId: string;
  /** Configured name (host config key / --name / route name). */
  serverName?: string;
  httpSessionId?: string;
  /** data_stream.namespace, default 'default'. */
  namespace?: string;
  /** ECS context copied into every event. */
  context: Pick<McpEvent, 'host' | 'observer' | 'network'> & Partial<Pick<McpEvent, 'user' | 'process' | 'url' | 'source' | 'user_agent'>>;
}

/** The redactor and size bounds a normalizer applies. */
export interface NormalizerOptions {
  redactor: Redactor;
  /** Default 65536. */
  maxStringBytes?: number;
  /** Default 262144. */
  maxPayloadBytes?: number;
  /** Default 1024. */
  maxExcerptBytes?: number;
  /** Default 10000. */
  maxPending?: number;
  /** The sequence of the first event (default 0): a session recorded in two parts continues its numbering. */
  firstSequence?: number;
  /** What another normalizer of this session knew when it stopped (its state()): takes precedence over firstSequence. */
  resume?: NormalizerState;
}

/**
 * What a normalizer has learned of its session (numbering, negotiated facts, requests awaiting their response), as
 * plain data: a session whose recording moves elsewhere mid-stream (a stdio tap's hand-off) keeps its correlation.
 */
export interface NormalizerState {
  sequence: number;
  facts: SessionFacts;
  pending: PendingRequestsState;
  httpSessionId?: string;
}

/**
 * Per-frame HTTP context (the HTTP collector's request and response). `auth` becomes mcp.auth; it is
 * built without the credential, so it skips redaction (its token_hash would read as a secret-named key).
 */
export type FrameExtras = Partial<Pick<McpEvent, 'http' | 'url' | 'source' | 'user_agent'>> & { auth?: Auth };

const HTTP_FIELDS = ['http', 'url', 'source', 'user_agent'] as const;

/** The lifecycle and observation records a collector writes. */
export type LifecycleAction = 'session.start' | 'session.end' | 'tap.status' | 'auth.challenge' | 'auth.discovery' | 'posture.finding' | 'http.error' | 'http.rejected';

/** Optional content of a lifecycle record. */
export interface LifecycleFields {
  message?: string;
  process?: McpEvent['process'];
  tap?: NonNullable<McpEvent['mcp']['tap']>;
  outcome?: 'success' | 'failure' | 'unknown';
  /** The HTTP exchange the record is about. */
  extras?: FrameExtras;
  direction?: Direction;
  posture?: Posture;
}

const LIFECYCLE_TRAITS: Record<LifecycleAction, { category: EventCategory[]; type: EventType[] }> = {
  'session.start': { category: ['session'], type: ['start'] },
  'session.end': { category: ['session'], type: ['end'] },
  'tap.status': { category: ['process'], type: ['info'] },
  'auth.challenge': { category: ['authentication'], type: ['info'] },
  'auth.discovery': { category: ['authentication'], type: ['info'] },
  'posture.finding': { category: ['configuration'], type: ['info'] },
  'http.error': { category: ['network'], type: ['error'] },
  'http.rejected': { category: ['network'], type: ['denied'] },
};

/** JSON-RPC error codes with a name worth putting in error.type. */
const ERROR_TYPES: Readonly<Record<number, string>> = {
  [-32700]: 'parse_error',
  [-32600]: 'invalid_request',
  [-32601]: 'method_not_found',
  [-32602]: 'invalid_params',
  [-32603]: 'internal_error',
  [-32001]: 'request_timeout',
  [-32002]: 'resource_not_found',
  [-32042]: 'url_elicitation_required',
};

/** Redaction must see a secret whole before the excerpt is cut, so it reads this much past the cut (a PEM key fits). */
const EXCERPT_REDACTION_MARGIN = 8192;
const MAX_REASON_BYTES = 1024;
/** Latest valid ECS date; beyond it toISOString throws or leaves the date-time format. */
const MAX_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const NAMESPACE = /^[a-z0-9_]{1,100}$/;

type Batch = { index: number; size: number };

/** The last timestamp formatted: a chunk's frames share their arrival time, so a burst formats it once. */
let lastTimestamp = { ms: Number.NaN, iso: '' };

function timestampOf(ms: number): string {
  if (ms === lastTimestamp.ms) return lastTimestamp.iso;
  const valid = Number.isFinite(ms) && ms >= 0 && ms <= MAX_TIMESTAMP_MS;
  const iso = isoTimestamp(valid ? ms : Date.now());
  // An invalid time is stamped with the clock's, which is not the same the next time.
  if (valid) lastTimestamp = { ms, iso };
  return iso;
}

/**
 * A deep copy of JSON data (plain objects, arrays, primitives): what structuredClone gives for it, at a tenth of
 * the cost, which matters once per event.
 */
function copyJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setJsonProperty(copy, key, copyJson((value as Record<string, unknown>)[key]));
  return copy as T;
}

/** Freezes a JSON value and everything in it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** Normalizes the frames of one MCP session into events. */
export class SessionNormalizer {
  readonly #identity: SessionIdentity;
  /** The identity's ECS context, redacted once (URLs with keys, process args), and read-only. */
  readonly #context: SessionIdentity['context'];
  readonly #namespace: string;
  readonly #redactor: Redactor;
  readonly #shaper: PayloadShaper;
  readonly #maxExcerptBytes: number;
  readonly #pending: PendingRequests;
  readonly #facts: SessionFacts;
  /**
   * Redacted copies of per-exchange HTTP fields: every message of one exchange carries the same ones, so each
   * is redacted once and the copy is shared by those events (read-only: events are only serialized).
   */
  readonly #redactedHttpFields = new WeakMap<object, unknown>();
  #httpSessionId: string | undefined;
  #sequence = 0;

  /** Throws only on an invalid namespace; frames never throw. */
  constructor(identity: SessionIdentity, options: NormalizerOptions) {
    this.#namespace = identity.namespace ?? 'default';
    if (!NAMESPACE.test(this.#namespace)) throw new Error(`tapwire: namespace '${identity.namespace}' must match ${NAMESPACE.source}`);
    this.#identity = identity;
    // Every event shares these objects (copying them was a few per cent of a small event's cost): frozen, so that
    // no consumer of one event can change what the session's other events say.
    this.#context = deepFreeze(options.redactor.value(identity.context) as SessionIdentity['context']);
    this.#httpSessionId = options.resume ? options.resume.httpSessionId : identity.httpSessionId;
    this.#redactor = options.redactor;
    const limits: PayloadLimits = { maxStringBytes: options.maxStringBytes ?? 65536, maxPayloadBytes: options.maxPayloadBytes ?? 262144 };
    this.#shaper = new PayloadShaper(options.redactor, limits);
    this.#maxExcerptBytes = options.maxExcerptBytes ?? 1024;
    this.#pending = new PendingRequests(options.maxPending ?? 10000, options.resume?.pending);
    this.#facts = { ...options.resume?.facts };
    this.#sequence = options.resume?.sequence ?? options.firstSequence ?? 0;
  }

  /** What this normalizer has learned so far, for another one to continue the session from (options.resume). */
  state(): NormalizerState {
    return { sequence: this.#sequence, facts: { ...this.#facts }, pending: this.#pending.state(), ...(this.#httpSessionId === undefined ? {} : { httpSessionId: this.#httpSessionId }) };
  }

  /** The protocol version the session negotiated (initialize result or 2026-07-28 request metadata). */
  get protocolVersion(): string | undefined {
    return this.#facts.protocolVersion;
  }

  /** What the server reported about itself. */
  get serverInfo(): PeerInfo | undefined {
    return this.#facts.serverInfo && { ...this.#facts.serverInfo };
  }

  /** What the client reported about itself. */
  get clientInfo(): PeerInfo | undefined {
    return this.#facts.clientInfo && { ...this.#facts.clientInfo };
  }

  /** Requests still waiting for a response. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** Records the HTTP Mcp-Session-Id once the server assigns it; later events carry it. */
  setHttpSessionId(id: string): void {
    this.#httpSessionId = id;
  }

  /** One transport frame (a stdio line without its newline; a POST body; one SSE data field) → events (several for a batch array). Never throws. */
  frame(direction: Direction, frame: Buffer | string, timestampMs: number, extras?: FrameExtras): McpEvent[] {
    const size = typeof frame === 'string' ? Buffer.byteLength(frame, 'utf8') : frame.length;
    try {
      let text = typeof frame === 'string' ? frame : frame.toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.trim() === '') return [this.#unparsedEvent(direction, text, size, timestampMs, 'empty frame', extras)];
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        return [this.#unparsedEvent(direction, text, size, timestampMs, describeJsonError(error), extras)];
      }
      if (!Array.isArray(parsed)) return [this.#messageEvent(direction, parsed, text, size, timestampMs, extras)];
      if (parsed.length === 0) return [this.#unparsedEvent(direction, text, size, timestampMs, 'empty batch array', extras)];
      return parsed.map((element: unknown, index) =>
        this.#messageEvent(direction, element, undefined, size, timestampMs, extras, { index, size: parsed.length }),
      );
    } catch (error) {
      // A bug here must cost one event's detail, never the tap or the traffic.
      const reason = `normalizer error: ${error instanceof Error ? error.message : String(error)}`;
      return [this.unparsed(direction, frame, size, timestampMs, reason, extras)];
    }
  }

  /** An unparsed event for a frame the transport cut (e.g. over the size limit): excerpt is its first bytes, size its full size. */
  unparsed(direction: Direction, excerpt: Buffer | string, size: number, timestampMs: number, reason: string, extras?: FrameExtras): McpEvent {
    const seen = typeof excerpt === 'string' ? Buffer.byteLength(excerpt, 'utf8') : excerpt.length;
    const text = typeof excerpt === 'string' ? excerpt : excerpt.subarray(0, this.#maxExcerptBytes + EXCERPT_REDACTION_MARGIN).toString('utf8');
    const event = this.#unparsedEvent(direction, text, size, timestampMs, reason, extras);
    if (size > seen && event.mcp.message) event.mcp.message.truncated = true;
    return event;
  }

  /** A lifecycle or observation record (session.start, session.end, tap.status, auth.*, posture.finding, http.*). */
  lifecycle(action: LifecycleAction, timestampMs: number, fields: LifecycleFields = {}): McpEvent {
    const event = this.#base(action, LIFECYCLE_TRAITS[action], timestampMs, fields.direction, fields.extras);
    if (fields.posture !== undefined) event.mcp.posture = { ...fields.posture };
    if (fields.message !== undefined) event.message = boundString(this.#redactor.text(fields.message), MAX_REASON_BYTES).value;
    if (fields.process !== undefined) event.process = this.#redactor.value(fields.process) as McpEvent['process'];
    if (fields.tap !== undefined) event.mcp.tap = copyJson(fields.tap);
    if (fields.outcome !== undefined) event.event.outcome = fields.outcome;
    return this.#stampFacts(event);
  }

  #base(action: string, traits: { category: EventCategory[]; type: EventType[] }, timestampMs: number, direction: Direction | undefined, extras: FrameExtras | undefined): McpEvent {
    const sequence = this.#sequence++;
    const { sessionId, hostSessionId, transport, serverId, serverName } = this.#identity;
    const event: McpEvent = {
      '@timestamp': timestampOf(timestampMs),
      ecs: { version: ECS_VERSION },
      event: { kind: 'event', category: traits.category, type: traits.type, action, dataset: 'mcp.messages', id: `${sessionId}:${sequence}`, sequence },
      data_stream: { type: 'logs', dataset: 'mcp.messages', namespace: this.#namespace },
      mcp: {
        session: this.#httpSessionId === undefined ? { id: sessionId } : { id: sessionId, http_id: this.#httpSessionId },
        transport,
        server: { id: serverId, name: serverName ?? serverId },
      },
      ...this.#context,
    };
    if (extras !== undefined) {
      // Per-frame HTTP fields carry headers and URLs: redact them like payloads.
      for (const key of HTTP_FIELDS) {
        const fields = extras[key];
        if (fields === undefined) continue;
        let redacted = this.#redactedHttpFields.get(fields);
        if (redacted === undefined) {
          redacted = this.#redactor.value(fields);
          this.#redactedHttpFields.set(fields, redacted);
        }
        event[key] = redacted as Record<string, unknown>;
      }
      if (extras.auth !== undefined) event.mcp.auth = copyJson(extras.auth);
    }
    if (hostSessionId !== undefined) event.mcp.host_session = { id: hostSessionId };
    if (direction !== undefined) event.mcp.direction = direction;
    return event;
  }

  /** Stamps what the session has learned so far: negotiated version, client and server identity. */
  #stampFacts(event: McpEvent): McpEvent {
    const { protocolVersion, clientInfo, serverInfo } = this.#facts;
    if (protocolVersion !== undefined) event.mcp.protocol = { version: protocolVersion };
    if (clientInfo !== undefined) event.mcp.client = { ...clientInfo };
    if (serverInfo !== undefined) {
      const server = event.mcp.server;
      if (serverInfo.name !== undefined) server.reported_name = serverInfo.name;
      if (serverInfo.version !== undefined) server.version = serverInfo.version;
      if (serverInfo.title !== undefined) server.title = serverInfo.title;
      server.name = this.#identity.serverName ?? serverInfo.name ?? server.id;
    }
    return event;
  }

  #learn(facts: SessionFacts): void {
    if (facts.protocolVersion !== undefined) this.#facts.protocolVersion = facts.protocolVersion;
    if (facts.clientInfo !== undefined) this.#facts.clientInfo = facts.clientInfo;
    if (facts.serverInfo !== undefined) this.#facts.serverInfo = facts.serverInfo;
  }

  #unparsedEvent(direction: Direction, text: string, size: number, timestampMs: number, reason: string, extras: FrameExtras | undefined, batch?: Batch): McpEvent {
    const event = this.#base('unparsed', { category: [...UNPARSED_TRAITS.category], type: [...UNPARSED_TRAITS.type] }, timestampMs, direction, extras);
    const window = text.length > this.#maxExcerptBytes + EXCERPT_REDACTION_MARGIN ? text.slice(0, this.#maxExcerptBytes + EXCERPT_REDACTION_MARGIN) : text;
    const excerpt = boundString(this.#redactor.text(window), this.#maxExcerptBytes);
    event.mcp.message = {
      kind: 'unparsed',
      size: Math.max(0, Math.floor(size)),
      excerpt: excerpt.value,
      parse_error: boundString(this.#redactor.text(reason), MAX_REASON_BYTES).value,
    };
    if (batch) event.mcp.message.batch = batch;
    if (excerpt.truncated || window !== text) event.mcp.message.truncated = true;
    return this.#stampFacts(event);
  }

  #messageEvent(direction: Direction, value: unknown, frameText: string | undefined, size: number, timestampMs: number, extras: FrameExtras | undefined, batch?: Batch): McpEvent {
    const capped = capNesting(value);
    const message = classifyMessage(capped.value);
    if ('invalid' in message) {
      return this.#unparsedEvent(direction, frameText ?? JSON.stringify(capped.value), size, timestampMs, message.invalid, extras, batch);
    }
    const pending = message.kind === 'response' || (message.kind === 'error' && message.id !== null) ? this.#pending.answer(direction, message.id as string | number) : undefined;
    const method = message.kind === 'request' || message.kind === 'notification' ? message.method : pending?.method;
    const action = method ?? message.kind;
    const event = this.#base(action, methodTraits(method, message.kind === 'error'), timestampMs, direction, extras);
    event.mcp.message = { kind: message.kind, size };
    if (batch) event.mcp.message.batch = batch;
    if (method !== undefined) event.mcp.method = { name: method };
    const x: Extraction = { event, shaper: this.#shaper, cut: new TruncationTracker(), facts: {} };
    x.cut.truncated = capped.truncated;
    event.jsonrpc = { version: '2.0' };
    if (message.kind !== 'notification' && message.id !== null) {
      // Redacted like any text: a credential used as a request id is still a credential.
      event.jsonrpc.request = { id: x.cut.keep(this.#shaper.text(String(message.id))) };
    }
    this.#fill(message, direction, timestampMs, pending, x);
    this.#learn(x.facts);
    if (x.cut.truncated) event.mcp.message.truncated = true;
    return this.#stampFacts(event);
  }

  #fill(message: JsonRpcMessage, direction: Direction, timestampMs: number, pending: ReturnType<PendingRequests['answer']>, x: Extraction): void {
    const { event } = x;
    switch (message.kind) {
      case 'request':
        extractParams(message.method, message.params, x);
        this.#pending.remember(direction, message.id, {
          method: message.method,
          timestampMs,
          toolName: event.gen_ai?.tool?.name,
          resourceUri: event.mcp.resource?.uri,
          promptName: event.mcp.prompt?.name,
        });
        return;
      case 'notification': {
        extractParams(message.method, message.params, x);
        const cancelled = (message.params as { requestId?: unknown } | undefined)?.requestId;
        if (message.method === 'notifications/cancelled' && (typeof cancelled === 'string' || typeof cancelled === 'number')) this.#pending.cancel(direction, cancelled);
        return;
      }
      case 'response':
        this.#correlate(event, timestampMs, pending);
        event.event.outcome = 'success';
        extractResult(pending?.method, message.result, x);
        return;
      case 'error':
        this.#correlate(event, timestampMs, pending);
        event.event.outcome = 'failure';
        this.#fillError(message.error, x);
    }
  }

  #correlate(event: McpEvent, timestampMs: number, pending: ReturnType<PendingRequests['answer']>): void {
    const message = event.mcp.message;
    if (message) message.correlated = pending !== undefined;
    if (!pending) return;
    event.event.duration = Math.max(0, Math.round((timestampMs - pending.timestampMs) * 1e6));
    if (pending.toolName !== undefined) event.gen_ai = { tool: { name: pending.toolName } };
    if (pending.resourceUri !== undefined) event.mcp.resource = { uri: pending.resourceUri };
    if (pending.promptName !== undefined) event.mcp.prompt = { name: pending.promptName };
  }

  #fillError(error: JsonRpcError, x: Extraction): void {
    const fields: NonNullable<McpEvent['error']> = {};
    if (typeof error.code === 'number' || typeof error.code === 'string') fields.code = String(error.code);
    if (typeof error.code === 'number' && ERROR_TYPES[error.code] !== undefined) fields.type = ERROR_TYPES[error.code];
    if (typeof error.message === 'string') fields.message = x.cut.keep(x.shaper.text(error.message));
    x.event.error = fields;
    // error.data has no ECS home; it can carry what detectors need (URL elicitations, validation detail).
    if (error.data !== undefined) x.event.mcp.result = x.cut.keep(x.shaper.value(error.data)) as Record<string, unknown>;
  }
}
