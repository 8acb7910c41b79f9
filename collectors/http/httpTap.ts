/**
 * The HTTP tap: a reverse proxy in front of Streamable HTTP and legacy HTTP+SSE MCP servers. This thread
 * only routes and forwards (proxyExchange.ts); an observer worker turns copies of what passed into events
 * (httpObserver.ts), so parsing, redaction and a slow or locked event store never delay a request.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { HttpObserverConfig, HttpObserverSummary } from './httpObserverProtocol.js';
import { OBSERVED_REQUEST_HEADERS } from './httpObserverProtocol.js';
import { collectorHomeRoot } from '../collectorHome.js';
import { removeRunningTapNote, writeUnrecordedNote } from '../unrecordedNote.js';
import { ObservationChannel } from './observationChannel.js';
import type { ProxyConfig, ProxyRoute } from './proxyConfig.js';
import { sendProxyError } from './proxyErrorResponse.js';
import { forwardExchange, now, type ExchangeContext } from './proxyExchange.js';
import { RouteTable } from './proxyRoutes.js';
import { runningProxyNote, type ProxyUnrecordedNote } from './proxySession.js';
import { UpstreamAgents } from './upstreamAgents.js';

const OBSERVER_YOUNG_GENERATION_MB = 8;
/**
 * How long an idle client connection stays open (advertised as Keep-Alive: timeout=65). Clients close an idle
 * connection one second before the advertised timeout, and a request sent on a connection the proxy has just
 * closed fails with ECONNRESET. With Node's default of 5 s, a client whose event loop lagged more than a second
 * (a busy laptop) hit that race every few thousand requests; past a minute of idleness it is rare, and an idle
 * socket costs the proxy next to nothing.
 */
const CLIENT_KEEP_ALIVE_MS = 65_000;
/**
 * How long the observer may report no progress before the stop gives up on it. It reports as it starts, as it
 * works through batches, and at close once it has made its last events and after each batch it stores; it retries a
 * bus that refuses them (locked by another writer, a full disk) until the stop gives up, so this one bound decides
 * both how long a wedged observer and how long a bus outage at close are waited for. A bound of a few seconds was a
 * timing assumption: with both cores saturated a healthy observer went that long unscheduled, was declared stalled
 * and terminated, and sessions it was storing went unrecorded.
 */
export const OBSERVER_STALL_MS = 60_000;

/** How the tap runs. */
export interface HttpTapOptions {
  config: ProxyConfig;
  /** Where to listen; overrides config.listen. */
  listen?: { host: string; port: number };
  home?: string;
  /** Body bytes copied to the observer but not yet processed (default 16 MiB); beyond this, observation is skipped and counted. */
  maxInflightBytes?: number;
  /** How long the observer gives a remote bus's spool to deliver at close (the spool keeps the rest). */
  flushTimeoutMs?: number;
  /** How long close() waits for an observer that reports no progress (default OBSERVER_STALL_MS) before noting its loss. */
  observerStallMs?: number;
  /** Events held while the bus cannot be written. */
  maxQueuedEvents?: number;
  /** Hears problems that do not stop the proxy (the observer failing). */
  onWarning?: (message: string) => void;
}

/** What the tap reports when it stops. */
export interface HttpTapSummary {
  exchanges: number;
  rejected: number;
  unobservedBytes: number;
  /** Undefined when the observer stopped making progress before it finished. */
  observer: HttpObserverSummary | undefined;
  /** When the observer did not record the proxy session's end: where its loss is noted for recording. */
  lossNote?: string;
}

function clientAddress(req: IncomingMessage): { ip: string; port: number } {
  return socketAddress(req.socket);
}

function socketAddress(socket: Socket): { ip: string; port: number } {
  return { ip: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''), port: socket.remotePort ?? 0 };
}

/** A request Node's HTTP parser refused before any handler saw it: request smuggling shapes, bad chunking, huge headers. */
interface ParserError extends Error {
  code?: string;
  rawPacket?: Buffer;
}

/** The status a parser refusal is answered with: 431 for headers past the limit, 408 for a request too slow to arrive, else 400. */
function parserRefusalStatus(code: string): 400 | 408 | 431 {
  return code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
}
const STATUS_TEXT = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' } as const;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A running proxy. */
export class HttpTap {
  readonly #server: Server;
  readonly #worker: Worker;
  readonly #channel: ObservationChannel;
  readonly #context: ExchangeContext;
  readonly #tls: boolean;
  readonly #observerConfig: HttpObserverConfig;
  /** Where this proxy's running note is, if it could be written. */
  #runningNote: string | undefined;
  readonly #stallMs: number;
  #exchanges = 0;
  #rejected = 0;
  #closing: Promise<HttpTapSummary> | undefined;
  /** The address clients use, e.g. http://127.0.0.1:8080. */
  readonly url: string;

  private constructor(server: Server, worker: Worker, channel: ObservationChannel, context: ExchangeContext, tls: boolean, url: string, observerConfig: HttpObserverConfig, stallMs: number) {
    this.#server = server;
    this.#worker = worker;
    this.#channel = channel;
    this.#context = context;
    this.#tls = tls;
    this.url = url;
    this.#observerConfig = observerConfig;
    this.#stallMs = stallMs;
  }

  /** Starts the observer and listens; resolves once the proxy accepts connections. */
  static async start(options: HttpTapOptions): Promise<HttpTap> {
    const { config } = options;
    const listen = options.listen ?? config.listen;
    if (!listen) throw new Error('no listen address: give --listen HOST:PORT or listen: in the configuration');
    const tls = config.tls !== undefined;
    const handlers: { request?: (req: IncomingMessage, res: ServerResponse) => void } = {};
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => handlers.request!(req, res);
    const server = tls ? createHttpsServer({ cert: config.tls!.cert, key: config.tls!.key }, onRequest) : createHttpServer(onRequest);
    server.keepAliveTimeout = CLIENT_KEEP_ALIVE_MS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `${tls ? 'https' : 'http'}://${host}:${address.port}`;
    const flushTimeoutMs = options.flushTimeoutMs ?? 3000;
    const observerConfig: HttpObserverConfig = {
      ...(options.home !== undefined ? { home: options.home } : {}),
      sessionId: randomUUID(),
      listenUrl: url,
      startedAt: now(),
      routes: config.routes.map((route) => ({ name: route.name, upstream: route.upstream.href, remote: route.remote, resources: route.resources })),
      maxFrameBytes: config.maxBodyBytes,
      sessionIdleTimeoutMs: config.sessionIdleTimeoutMs,
      flushTimeoutMs,
      maxQueuedEvents: options.maxQueuedEvents ?? 50_000,
    };
    // A small young generation: the observer's garbage is short-lived, and the default (up to 48 MiB) would be most of the tap's memory.
    const worker = new Worker(new URL('./httpObserver.js', import.meta.url), { workerData: observerConfig, resourceLimits: { maxYoungGenerationSizeMb: OBSERVER_YOUNG_GENERATION_MB } });
    const warn = options.onWarning ?? ((message: string) => process.stderr.write(`tapwire proxy: ${message}\n`));
    const channel = new ObservationChannel(worker, options.maxInflightBytes ?? 16 * 1024 * 1024, (error) => warn(`observer failed (${error.message}); traffic continues unobserved`));
    const context: ExchangeContext = {
      channel,
      agents: new UpstreamAgents(config.upstreamCa),
      table: new RouteTable(config.routes),
      maxBodyBytes: config.maxBodyBytes,
      upstreamTimeoutMs: config.upstreamTimeoutMs,
    };
    const tap = new HttpTap(server, worker, channel, context, tls, url, observerConfig, options.observerStallMs ?? OBSERVER_STALL_MS);
    tap.#keepRunningNote(warn);
    handlers.request = (req, res) => tap.#handle(req, res);
    server.on('connect', (req: IncomingMessage, socket: Duplex) => tap.#refuseSocket(req, socket, 405, 'CONNECT is not served: this is a reverse proxy, not an open proxy'));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => tap.#refuseSocket(req, socket, 501, 'protocol upgrades are not proxied'));
    server.on('clientError', (error: ParserError, socket: Duplex) => {
      const code = error.code ?? '';
      // A client that went away is no refusal; everything the parser refused is recorded, like the route table's refusals.
      if (!code.startsWith('HPE_') && code !== 'ERR_HTTP_REQUEST_TIMEOUT') return socket.destroy();
      const status = parserRefusalStatus(code);
      tap.#recordParserRefusal(error, code, socket as Socket, status);
      socket.on('error', () => undefined);
      if (socket.writable) socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      else socket.destroy();
    });
    return tap;
  }

  /** How long close() waits for an observer that reports no progress. */
  get observerStallMs(): number {
    return this.#stallMs;
  }

  /** The routes, in configuration order. */
  get routes(): readonly ProxyRoute[] {
    return this.#context.table.routes;
  }

  /** Stops listening, cuts open exchanges, ends every session's telemetry and waits for it to be stored. */
  close(): Promise<HttpTapSummary> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<HttpTapSummary> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
    this.#context.agents.destroy();
    // Exchanges cut just now report their ends on the next turns of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    this.#channel.send({ type: 'end', t: now(), unobservedBytes: this.#channel.unobservedBytes });
    this.#channel.flush();
    let observer = await this.#channel.finished(this.#stallMs);
    const stalled = !observer;
    if (stalled) {
      // An observer whose bus refuses its events is alive: it gives up when told, with its exact counts. Only one that
      // does not answer either is terminated (which, inside the bus's native wait on a lock, would end the process).
      this.#channel.send({ type: 'giveUp' });
      this.#channel.flush();
      observer = await this.#channel.finished(this.#stallMs);
    }
    await this.#worker.terminate();
    // The loss note replaces the running note; a recorded end makes it void.
    const lossNote = observer?.endStored ? undefined : this.#noteUnrecordedEnd(observer, stalled);
    if (!lossNote && this.#runningNote) removeRunningTapNote(this.#runningNote);
    return { exchanges: this.#exchanges, rejected: this.#rejected, unobservedBytes: this.#channel.unobservedBytes, observer, ...(lossNote ? { lossNote } : {}) };
  }

  /**
   * Notes the proxy's session for as long as it runs (proxySession.ts runningProxyNote): a proxy killed before its
   * stop recorded the session's end leaves it, and the next recovery of the home records that end with the loss.
   */
  #keepRunningNote(warn: (message: string) => void): void {
    const { sessionId, listenUrl, startedAt, home } = this.#observerConfig;
    try {
      this.#runningNote = writeUnrecordedNote(collectorHomeRoot(home, undefined), runningProxyNote(sessionId, listenUrl, startedAt));
    } catch (error) {
      warn(`cannot keep a running note (${(error as Error).message}): if this proxy is killed, its session's end goes unrecorded`);
    }
  }

  /**
   * Leaves a note of the proxy session's end, which the observer did not record, with what was lost (as a stdio tap
   * does for a session it could not record): the next recovery of the home records it, and `status` counts the loss.
   * Returns where the note is, or why there is none.
   */
  #noteUnrecordedEnd(observer: HttpObserverSummary | undefined, stalled: boolean): string {
    const { sessionId, listenUrl, home } = this.#observerConfig;
    // A stalled observer is counted as of its last report: what it made and had not stored, and the bytes it had not processed.
    const progress = observer?.progress ?? this.#channel.progress;
    const note: ProxyUnrecordedNote = {
      kind: 'http_proxy',
      sessionId,
      listenUrl,
      tapPid: process.pid,
      t: now(),
      sequence: progress.sequence,
      events: progress.events,
      dropped: observer ? observer.dropped : progress.events - progress.stored,
      unobservedBytes: this.#channel.unobservedBytes + (observer ? 0 : this.#channel.unacknowledgedBytes),
      reason: observer
        ? `the bus did not take ${observer.dropped} of ${observer.events} events${stalled ? `, storing nothing for ${this.#stallMs} ms before the proxy stopped waiting` : ''}${observer.lastError ? ` (${observer.lastError})` : ''}`
        : 'the observer stopped making progress before it finished',
    };
    try {
      return `the loss is noted in ${writeUnrecordedNote(collectorHomeRoot(home, undefined), note)}, for the next tapwire command to record`;
    } catch (error) {
      return `no note of the loss could be left either (${(error as Error).message})`;
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const t = now();
    const target = req.url ?? '';
    const match = this.#context.table.match(req.headers.host, target);
    if ('status' in match) {
      this.#recordRejection(req, t, match.status, match.reason);
      sendProxyError(res, match.status, match.reason);
      req.resume();
      return;
    }
    const x = ++this.#exchanges;
    const headers: Partial<Record<(typeof OBSERVED_REQUEST_HEADERS)[number], string>> = {};
    for (const name of OBSERVED_REQUEST_HEADERS) {
      const value = header(req, name);
      if (value !== undefined) headers[name] = value;
    }
    this.#channel.send({ type: 'request', x, t, route: match.index, method: req.method ?? 'GET', target, upstreamTarget: match.upstreamTarget, headers, client: clientAddress(req), tls: this.#tls, httpVersion: req.httpVersion });
    forwardExchange(this.#context, x, match, req, res);
  }

  #recordRejection(req: IncomingMessage, t: number, status: number, reason: string): void {
    this.#rejected++;
    const host = header(req, 'host');
    const userAgent = header(req, 'user-agent');
    this.#channel.send({
      type: 'rejected',
      t,
      status,
      reason,
      method: req.method ?? '',
      target: (req.url ?? '').slice(0, 2048),
      ...(host !== undefined ? { host } : {}),
      ...(userAgent !== undefined ? { userAgent } : {}),
      client: clientAddress(req),
      tls: this.#tls,
    });
  }

  #recordParserRefusal(error: ParserError, code: string, socket: Socket, status: number): void {
    this.#rejected++;
    // What the parser had read: the request line, if it got that far.
    const line = /^([A-Za-z]{1,20}) (\S{1,2048})/.exec(error.rawPacket?.subarray(0, 2100).toString('latin1') ?? '');
    this.#channel.send({
      type: 'rejected',
      t: now(),
      status,
      reason: `the HTTP parser refused the request (${code}: ${error.message.slice(0, 200)})`,
      method: line?.[1] ?? '',
      target: line?.[2] ?? '',
      client: socketAddress(socket),
      tls: this.#tls,
    });
  }

  #refuseSocket(req: IncomingMessage, socket: Duplex, status: 405 | 501, reason: string): void {
    this.#recordRejection(req, now(), status, reason);
    const text = status === 405 ? 'Method Not Allowed' : 'Not Implemented';
    socket.on('error', () => undefined);
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
}
