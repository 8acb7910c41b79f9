/**
 * The observer's view of one HTTP exchange: it assembles the request body and the response (one JSON
 * body, or SSE events as they complete), finds the exchange's MCP session, and writes the messages,
 * auth records and posture findings as events. The request's messages are written once the response
 * headers are known (they decide the session of an initialize request and carry its status).
 */
import type { Auth, McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { FrameExtras } from '../normalizer.js';
import type { Redactor } from '../redaction.js';
import { discoveryKind, observeAuthorization, observeChallenge, observeDiscoveryDocument } from './authObservation.js';
import { BoundedBody, type ObservedBody } from './boundedBody.js';
import { exchangeFields, type ResponseFacts } from './httpEventFields.js';
import type { BodyDirection, ObservedRoute, RequestObservation, ToObserver } from './httpObserverProtocol.js';
import type { HttpSession, HttpSessionRegistry, SessionKey } from './httpSessions.js';
import { audienceMatches, credentialQueryParameters } from './postureChecks.js';
import { SseParser, type SseEvent } from './sseParser.js';

/** What every exchange observer of one proxy shares. */
export interface ExchangeObserverContext {
  registry: HttpSessionRegistry;
  redactor: Redactor;
  routes: readonly ObservedRoute[];
  maxFrameBytes: number;
  /** Prefix of http.request.id, unique per proxy run. */
  runId: string;
  emit: (event: McpEvent) => void;
}

type ResponseMessage = Extract<ToObserver, { type: 'response' }>;
type EndMessage = Extract<ToObserver, { type: 'responseEnd' }>;
/** Discovery documents are small; more than this is not a discovery document worth parsing. */
const MAX_DISCOVERY_BYTES = 256 * 1024;
const INITIALIZE = /"method"\s*:\s*"initialize"/;

/** How a response body is observed. */
type ResponseMode = { kind: 'sse'; parser: SseParser } | { kind: 'body'; body: BoundedBody } | { kind: 'discovery'; body: BoundedBody } | { kind: 'ignored' };

function isJsonMedia(contentType: string | undefined): boolean {
  return /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType?.trim() ?? '');
}

/** Observes one exchange from its request to its end. */
export class ExchangeObserver {
  readonly #context: ExchangeObserverContext;
  readonly #request: RequestObservation;
  readonly #path: string;
  /** The OAuth discovery document the upstream was asked for, if any. */
  readonly #discovery: ReturnType<typeof discoveryKind>;
  readonly #queryCredentials: string[];
  readonly #requestBody: BoundedBody;
  #requestEnd: { t: number; complete: boolean } | undefined;
  #requestWritten = false;
  #response: ResponseMessage | undefined;
  #mode: ResponseMode = { kind: 'ignored' };
  #proxyFailure: { status: number; reason: string } | undefined;
  #legacy: SessionKey | undefined;
  #session: HttpSession | undefined;
  #auth: Auth | undefined;
  #fields: FrameExtras | undefined;
  #sseEventTime = 0;
  #done = false;

  /** Starts observing a routed request; a POST to a known legacy endpoint joins that stream's session. */
  constructor(context: ExchangeObserverContext, request: RequestObservation) {
    this.#context = context;
    this.#request = request;
    const queryAt = request.target.indexOf('?');
    this.#path = queryAt === -1 ? request.target : request.target.slice(0, queryAt);
    this.#discovery = request.method === 'GET' ? discoveryKind(request.upstreamTarget.split('?')[0]!) : undefined;
    this.#queryCredentials = queryAt === -1 ? [] : credentialQueryParameters(request.target.slice(queryAt + 1));
    this.#requestBody = new BoundedBody(context.maxFrameBytes);
    if (request.method === 'POST') this.#legacy = context.registry.legacyEndpoint(request.route, request.target);
    const authorization = request.headers.authorization;
    if (authorization !== undefined) this.#auth = observeAuthorization(authorization, context.redactor);
  }

  /** Whether the exchange has ended. */
  get done(): boolean {
    return this.#done;
  }

  /** A copied body chunk. */
  body(dir: BodyDirection, chunk: Buffer, t: number): void {
    if (dir === 0) {
      this.#requestBody.push(chunk);
      return;
    }
    const mode = this.#mode;
    if (mode.kind === 'sse') {
      this.#sseEventTime = t;
      mode.parser.push(chunk);
    } else if (mode.kind !== 'ignored') mode.body.push(chunk);
  }

  /** Bytes forwarded without a copy. */
  gap(dir: BodyDirection, bytes: number, t: number): void {
    if (dir === 0) {
      this.#requestBody.gap(bytes);
      return;
    }
    const mode = this.#mode;
    if (mode.kind === 'sse') {
      this.#unparsed('server_to_client', '', bytes, t, `${bytes} bytes of the event stream were forwarded without being observed (observer fell behind)`);
      // The next event boundary is unknown: parsing restarts, and a partial first event is recorded as unparsed.
      this.#mode = { kind: 'sse', parser: this.#sseParser() };
    } else if (mode.kind !== 'ignored') mode.body.gap(bytes);
  }

  /** The request body has ended (or was cut). */
  requestEnd(t: number, complete: boolean): void {
    this.#requestEnd = { t, complete };
    if (this.#response !== undefined) this.#writeRequest();
  }

  /** The upstream's response headers, as forwarded. */
  response(message: ResponseMessage): void {
    this.#response = message;
    const contentType = message.headers['content-type'];
    const encoded = (message.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity';
    if (this.#discovery !== undefined) this.#mode = { kind: 'discovery', body: new BoundedBody(MAX_DISCOVERY_BYTES) };
    else if (/^text\/event-stream\b/i.test(contentType ?? '')) {
      if (encoded) this.#unparsed('server_to_client', '', 0, message.t, `event stream with content-encoding '${message.headers['content-encoding']}' is not observed`);
      else this.#mode = { kind: 'sse', parser: this.#sseParser() };
    } else if (isJsonMedia(contentType) || (message.status >= 400 && this.#request.method === 'POST')) this.#mode = { kind: 'body', body: new BoundedBody(this.#context.maxFrameBytes) };
    // Streams and requests of a known session keep it open from their start.
    if (this.#request.headers['mcp-session-id'] !== undefined || message.headers['mcp-session-id'] !== undefined) this.#bind(message.t);
    if (this.#requestEnd !== undefined) this.#writeRequest();
    if (message.status === 401 || (message.status === 403 && message.headers['www-authenticate'] !== undefined)) this.#challenge(message);
  }

  /** The proxy answered in the upstream's place (413, 502, 504). */
  proxyError(status: number, reason: string, t: number): void {
    this.#proxyFailure = { status, reason };
    this.#finish(t, false, reason);
  }

  /** The response ended (complete, or cut by either side). */
  responseEnd(message: EndMessage): void {
    this.#finish(message.t, message.complete, message.error);
  }

  /** A legacy endpoint the proxy could not map: the client will post around the proxy. */
  unmappedEndpoint(endpoint: string, t: number): void {
    const session = this.#bind(t);
    const message = `legacy SSE endpoint '${endpoint}' is outside the route's upstream; the client will post to it directly, unobserved`;
    this.#context.emit(session.normalizer.lifecycle('http.error', t, { message, outcome: 'unknown', extras: this.#extras() }));
  }

  #sseParser(): SseParser {
    return new SseParser((event) => this.#sseEvent(event), this.#context.maxFrameBytes);
  }

  #extras(): FrameExtras {
    if (this.#fields !== undefined) return this.#fields;
    const response: ResponseFacts | undefined = this.#proxyFailure
      ? { status: this.#proxyFailure.status, contentType: 'application/json' }
      : this.#response && { status: this.#response.status, ...(this.#response.headers['content-type'] !== undefined ? { contentType: this.#response.headers['content-type'] } : {}) };
    const fields = exchangeFields(this.#request, `${this.#context.runId}-${this.#request.x}`, response, this.#requestEnd ? this.#requestBody.size : undefined);
    // Cached once the response is known: later events of the exchange carry the same context.
    if (response !== undefined) this.#fields = fields;
    return fields;
  }

  #key(): SessionKey {
    const { route, headers, client } = this.#request;
    if (this.#legacy) return this.#legacy;
    const httpId = headers['mcp-session-id'] ?? this.#response?.headers['mcp-session-id'];
    if (httpId !== undefined) return { key: `mcp ${route} ${httpId}`, route, transport: 'streamable_http', httpId };
    return { key: `client ${route} ${client.ip} ${headers['user-agent'] ?? ''}`, route, transport: 'streamable_http' };
  }

  #bind(t: number): HttpSession {
    if (this.#session) return this.#session;
    const key = this.#key();
    const { registry } = this.#context;
    if (key.httpId === undefined && !this.#legacy && this.#isInitialize()) {
      // A stateless client that initializes again starts a new logical session.
      const previous = registry.existing(key.key);
      if (previous?.normalizer.clientInfo !== undefined) registry.end(previous, t, 'the client initialized a new session');
    }
    const session = registry.session(key, this.#request.t, this.#extras());
    session.openExchanges++;
    this.#session = session;
    this.#checkCredentials(session, t);
    return session;
  }

  #isInitialize(): boolean {
    return this.#request.method === 'POST' && INITIALIZE.test(this.#requestBody.peek());
  }

  #checkCredentials(session: HttpSession, t: number): void {
    const { registry, routes } = this.#context;
    const extras = this.#extras();
    const names = this.#queryCredentials;
    if (names.length > 0) registry.posture(session, t, extras, { finding: 'token_in_query', detail: `credential in query parameter ${names.join(', ')}` });
    const auth = this.#auth;
    if (auth?.token_format !== 'jwt' || auth.token_hash === undefined) return;
    const resources = routes[this.#request.route]!.resources;
    const audience = auth.jwt?.aud ?? [];
    if (!audienceMatches(audience, resources)) {
      const detail = audience.length === 0 ? `token ${auth.token_hash} has no aud claim` : `token ${auth.token_hash} aud ${audience.join(' ')} is not ${resources.join(' ')}`;
      registry.posture(session, t, { ...extras, auth }, { finding: 'token_audience_mismatch', detail }, `token_audience_mismatch:${auth.token_hash}`);
    }
  }

  #writeRequest(): void {
    if (this.#requestWritten || this.#requestEnd === undefined) return;
    this.#requestWritten = true;
    const { method } = this.#request;
    if (method !== 'POST' && this.#requestBody.size === 0) return;
    if (this.#mode.kind === 'discovery') return;
    const t = this.#requestEnd.t;
    const session = this.#bind(t);
    const body = this.#requestBody.take(this.#request.headers['content-encoding']);
    const extras = { ...this.#extras(), ...(this.#auth ? { auth: this.#auth } : {}) };
    const events = this.#frame(session, 'client_to_server', body, t, extras, this.#requestEnd.complete ? undefined : 'the client closed the connection during its request');
    for (const event of events) this.#context.emit(event);
    this.#checkRequestPosture(session, t, events);
  }

  #frame(session: HttpSession, direction: 'client_to_server' | 'server_to_client', body: ObservedBody, t: number, extras: FrameExtras, cut?: string): McpEvent[] {
    if (this.#proxyFailure?.status === 413 && direction === 'client_to_server') {
      return [session.normalizer.unparsed(direction, body.bytes, body.size, t, `${this.#proxyFailure.reason} (refused with 413)`, extras)];
    }
    const reason = cut ?? body.incomplete;
    if (reason !== undefined) return [session.normalizer.unparsed(direction, body.bytes, body.size, t, reason, extras)];
    return session.normalizer.frame(direction, body.bytes, t, extras);
  }

  #checkRequestPosture(session: HttpSession, t: number, events: McpEvent[]): void {
    const { registry, routes } = this.#context;
    const extras = this.#extras();
    const route = routes[this.#request.route]!;
    const status = this.#response?.status;
    const accepted = status !== undefined && status >= 200 && status < 300 && events.some((e) => e.mcp.message?.kind !== 'unparsed');
    if (route.remote && accepted && this.#auth === undefined && this.#queryCredentials.length === 0) {
      registry.posture(session, t, extras, { finding: 'no_authorization', detail: `${route.upstream} accepted MCP traffic without an Authorization header` }, 'no_authorization');
    }
    const { headers } = this.#request;
    const first = events[0];
    if (first === undefined || (headers['mcp-method'] === undefined && headers['mcp-name'] === undefined)) return;
    const method = first.mcp.method?.name;
    const name = first.gen_ai?.tool?.name ?? first.mcp.prompt?.name ?? first.mcp.resource?.uri;
    const mismatches: string[] = [];
    if (headers['mcp-method'] !== undefined && headers['mcp-method'] !== method) mismatches.push(`Mcp-Method '${headers['mcp-method']}' but the body's method is '${method ?? '(none)'}'`);
    if (headers['mcp-name'] !== undefined && headers['mcp-name'] !== name) mismatches.push(`Mcp-Name '${headers['mcp-name']}' but the body names '${name ?? '(none)'}'`);
    if (mismatches.length > 0) registry.posture(session, t, extras, { finding: 'mcp_header_mismatch', detail: mismatches.join('; ') });
  }

  #challenge(message: ResponseMessage): void {
    const session = this.#bind(message.t);
    const challenge = observeChallenge(message.status, message.headers['www-authenticate']);
    const auth: Auth = { ...(this.#auth ?? {}), challenge };
    const text = `upstream answered ${message.status}${challenge.error ? ` (${challenge.error})` : ''}${challenge.resource_metadata ? `; resource metadata at ${challenge.resource_metadata}` : ''}`;
    this.#context.emit(session.normalizer.lifecycle('auth.challenge', message.t, { message: text, outcome: 'failure', extras: { ...this.#extras(), auth } }));
  }

  #sseEvent(event: SseEvent): void {
    const t = this.#sseEventTime;
    if (event.type === 'endpoint') {
      this.#legacyStream(event.data, t);
      return;
    }
    if (event.type !== 'message') return;
    // Priming events (an id and empty data) carry no message.
    if (event.data === '' && !event.oversized) return;
    const session = this.#bind(t);
    if (event.id !== undefined && event.id !== '' && session.replayed(event.id)) return;
    const extras = this.#extras();
    const events = event.oversized
      ? [session.normalizer.unparsed('server_to_client', event.data, event.bytes, t, `SSE event of ${event.bytes} bytes exceeds the ${this.#context.maxFrameBytes}-byte observation limit`, extras)]
      : session.normalizer.frame('server_to_client', event.data, t, extras);
    for (const e of events) this.#context.emit(e);
  }

  #legacyStream(endpoint: string, t: number): void {
    let target: URL;
    try {
      target = new URL(endpoint, `http://proxy${this.#path}`);
    } catch {
      this.#unparsed('server_to_client', endpoint, Buffer.byteLength(endpoint), t, 'legacy endpoint event with an invalid URL');
      return;
    }
    const route = this.#request.route;
    const path = `${target.pathname}${target.search}`;
    const httpId = target.searchParams.get('sessionId') ?? target.searchParams.get('session_id') ?? path;
    const key: SessionKey = { key: `sse ${route} ${path}`, route, transport: 'sse', httpId };
    this.#legacy = key;
    this.#bind(t);
    this.#context.registry.registerLegacyEndpoint(route, path, key);
  }

  #unparsed(direction: 'client_to_server' | 'server_to_client', excerpt: string, size: number, t: number, reason: string): void {
    const session = this.#bind(t);
    this.#context.emit(session.normalizer.unparsed(direction, excerpt, size, t, reason, this.#extras()));
  }

  #finish(t: number, complete: boolean, error: string | undefined): void {
    if (this.#done) return;
    if (this.#requestEnd === undefined) this.#requestEnd = { t, complete: this.#proxyFailure !== undefined };
    this.#writeRequest();
    this.#done = true;
    const stream = this.#mode.kind === 'sse';
    this.#finishResponseBody(t);
    const { method } = this.#request;
    const status = this.#proxyFailure?.status ?? this.#response?.status;
    if (this.#proxyFailure) {
      const session = this.#bind(t);
      this.#context.emit(session.normalizer.lifecycle('http.error', t, { message: `proxy answered ${this.#proxyFailure.status}: ${this.#proxyFailure.reason}`, outcome: 'failure', extras: this.#extras() }));
    } else if (!complete && error !== undefined && !(method === 'GET' && stream && error === 'client closed the connection')) {
      const session = this.#bind(t);
      this.#context.emit(session.normalizer.lifecycle('http.error', t, { message: `exchange cut: ${error}`, outcome: 'failure', extras: this.#extras() }));
    }
    const session = this.#session;
    if (session === undefined) return;
    session.openExchanges--;
    session.lastActive = t;
    const { registry } = this.#context;
    if (method === 'DELETE' && status !== undefined && status >= 200 && status < 300) registry.delete(session, t);
    else if (status === 404 && this.#request.headers['mcp-session-id'] !== undefined) registry.expire(session, t);
    else if (this.#legacy && method === 'GET') registry.end(session, t, 'the legacy SSE stream closed');
  }

  #finishResponseBody(t: number): void {
    const mode = this.#mode;
    this.#mode = { kind: 'ignored' };
    switch (mode.kind) {
      case 'sse': {
        const tail = mode.parser.end();
        if (tail.truncated) this.#unparsed('server_to_client', tail.excerpt, tail.bytes, t, 'the event stream ended inside an event');
        return;
      }
      case 'body': {
        const body = mode.body.take(this.#response?.headers['content-encoding']);
        if (body.size === 0) return;
        const session = this.#bind(t);
        for (const event of this.#frame(session, 'server_to_client', body, t, this.#extras())) this.#context.emit(event);
        return;
      }
      case 'discovery': {
        const kind = this.#discovery!;
        const body = mode.body.take(this.#response?.headers['content-encoding']);
        const session = this.#bind(t);
        const metadata = observeDiscoveryDocument(kind, body.incomplete === undefined ? body.bytes.toString('utf8') : '');
        const status = this.#response?.status ?? 0;
        this.#context.emit(
          session.normalizer.lifecycle('auth.discovery', t, {
            message: `OAuth discovery ${this.#path} answered ${status}`,
            outcome: status >= 200 && status < 300 ? 'success' : 'failure',
            extras: { ...this.#extras(), auth: { ...(this.#auth ?? {}), metadata } },
          }),
        );
        return;
      }
    }
  }
}
