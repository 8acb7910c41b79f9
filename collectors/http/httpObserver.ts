/**
 * The HTTP tap's observer, in a worker thread: turns the forwarding thread's copies of each exchange
 * into events (exchangeObserver.ts) and publishes them to the embedded bus. The bus writes are
 * synchronous SQLite transactions, which is why they live here and not on the forwarding thread.
 *
 * It runs at the default CPU priority. Forwarding has a thread of its own and never waits for this one (past
 * the forwarding thread's budget observation is skipped and counted), so a lower priority protected no
 * request; it only let any busy process starve the observer: with both cores saturated, a niced observer
 * took 11.9 s to record a 20-call session that it records in 0.5 s at the default priority, and the proxy
 * stopped with whole sessions unrecorded.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { EventPublisher } from '../eventPublisher.js';
import { homeRedactor } from '../observerThread.js';
import { openCollectorBus } from '../spool/collectorBus.js';
import { ExchangeObserver } from './exchangeObserver.js';
import { exchangeFields } from './httpEventFields.js';
import type { FromObserver, HttpObserverConfig, ObservationBatch, ObserverProgress, ToObserver } from './httpObserverProtocol.js';
import { HttpSessionRegistry } from './httpSessions.js';
import { proxyContext, proxySession } from './proxySession.js';

const config = workerData as HttpObserverConfig;
const port = parentPort!;
const warn = (message: string): void => void process.stderr.write(`tapwire proxy: ${message}\n`);

const redactor = homeRedactor(config.home, warn);

const bus = openCollectorBus({
  ...(config.home !== undefined ? { home: config.home } : {}),
  warn,
  onSpoolDrop: (dropped, total) =>
    emit(session.lifecycle('tap.status', Date.now(), { message: `bus unreachable and spool full: ${dropped} oldest spooled events dropped (${total} so far)`, tap: { events, dropped: total, reason: 'spool_overflow' } })),
});
let events = 0;
let stopping = false;
const publisher = new EventPublisher(
  (topic, records) => bus.publish(topic, records),
  {
    maxQueued: config.maxQueuedEvents,
    onFailure: (error) => warn(`events cannot be stored (${error.message}); traffic continues, losses will be counted`),
    // While stopping, each batch stored is reported at once: the proxy waits for this observer as long as it hears progress.
    onPublished: () => {
      if (stopping) sendAck();
    },
  },
);
const emit = (event: McpEvent): void => {
  events++;
  publisher.enqueue(event);
};

const context = proxyContext();
const registry = new HttpSessionRegistry({ routes: config.routes, redactor, context, idleTimeoutMs: config.sessionIdleTimeoutMs, emit });
const runId = randomUUID().slice(0, 8);
const observerContext = { registry, redactor, routes: config.routes, maxFrameBytes: config.maxFrameBytes, runId, emit };
const exchanges = new Map<number, ExchangeObserver>();

/** The proxy's own session: its start and end, and the requests it refused before any route. */
const session = proxySession(config.sessionId, config.listenUrl, redactor);
emit(session.lifecycle('session.start', config.startedAt, { message: `tapwire proxy listening on ${config.listenUrl} for ${config.routes.map((r) => `${r.name} (${r.upstream})`).join(', ')}` }));
let rejected = 0;

const sweeper = setInterval(() => registry.sweep(Date.now()), Math.min(60_000, Math.max(1000, config.sessionIdleTimeoutMs / 4)));
sweeper.unref();

/**
 * Acknowledgements refill the forwarding thread's budget and show that the observer is making progress (the
 * proxy waits for it at close as long as they come). While traffic flows they are sent rarely: every 20 ms of
 * work, or per 4 MiB; while stopping, after each batch stored (the batches of a close run back to back, and no
 * timer fires between them).
 */
const ACK_DELAY_MS = 20;
const ACK_BYTES = 4 * 1024 * 1024;
let pendingAck = 0;
let ackTimer: NodeJS.Timeout | undefined;
function sendAck(): void {
  clearTimeout(ackTimer);
  ackTimer = undefined;
  port.postMessage({ type: 'ack', bytes: pendingAck, progress: progress() } satisfies FromObserver);
  pendingAck = 0;
}
/** What the proxy notes of its session if this observer stops before it has recorded the end (proxySession.ts). */
function progress(): ObserverProgress {
  return { events, stored: publisher.stats().published, sequence: session.state().sequence };
}
function acknowledge(bytes: number): void {
  pendingAck += bytes;
  if (pendingAck >= ACK_BYTES) sendAck();
  else ackTimer ??= setTimeout(sendAck, ACK_DELAY_MS);
}

function handle(message: ToObserver, bodies: Uint8Array): void {
  switch (message.type) {
    case 'request':
      exchanges.set(message.x, new ExchangeObserver(observerContext, message));
      return;
    case 'body':
      acknowledge(message.length);
      exchanges.get(message.x)?.body(message.dir, Buffer.from(bodies.buffer, bodies.byteOffset + message.offset, message.length), message.t);
      return;
    case 'gap':
      exchanges.get(message.x)?.gap(message.dir, message.bytes, Date.now());
      return;
    case 'requestEnd':
      exchanges.get(message.x)?.requestEnd(message.t, message.complete);
      return;
    case 'response':
      exchanges.get(message.x)?.response(message);
      return;
    case 'responseEnd':
      exchanges.get(message.x)?.responseEnd(message);
      exchanges.delete(message.x);
      return;
    case 'proxyError':
      exchanges.get(message.x)?.proxyError(message.status, message.reason, message.t);
      exchanges.delete(message.x);
      return;
    case 'unmappedEndpoint':
      exchanges.get(message.x)?.unmappedEndpoint(message.endpoint, message.t);
      return;
    case 'rejected': {
      rejected++;
      const { t, status, reason, method, target, host, userAgent, client, tls } = message;
      const headers = { ...(host !== undefined ? { host } : {}), ...(userAgent !== undefined ? { 'user-agent': userAgent } : {}) };
      const extras = exchangeFields({ type: 'request', x: 0, t, route: -1, method, target, upstreamTarget: target, headers, client, tls, httpVersion: '1.1' }, `${runId}-rejected-${rejected}`, { status });
      emit(session.lifecycle('http.rejected', t, { message: `refused ${method} ${target.slice(0, 200)} with ${status}: ${reason}`, outcome: 'failure', extras }));
      return;
    }
    case 'end':
      void finish(message.t, message.unobservedBytes);
      return;
    case 'giveUp':
      publisher.abandon();
  }
}

async function finish(t: number, unobservedBytes: number): Promise<void> {
  stopping = true;
  clearInterval(sweeper);
  exchanges.clear();
  registry.endAll(t, 'the proxy stopped');
  const stats = publisher.stats();
  emit(
    session.lifecycle('session.end', t, {
      message: `tapwire proxy stopped: ${registry.started} MCP sessions, ${rejected} requests refused`,
      tap: { events: events + 1, dropped: stats.dropped, bytes_unobserved: unobservedBytes },
    }),
  );
  // What it made at close is reported before it is stored: if the bus never takes it, the proxy's note counts it.
  sendAck();
  // No bound of its own: while the bus refuses (a lock held by another writer, a full disk) this keeps retrying, and
  // the proxy's stop, which waits as long as each batch stored is reported, tells it to give up after its stall bound
  // without one ('giveUp'). A fixed few seconds of retries lost sessions to a short outage.
  const final = await publisher.close(Infinity);
  await bus.close(config.flushTimeoutMs);
  // The end went last: it was stored unless the close dropped what was still queued.
  const endStored = final.dropped === stats.dropped;
  port.postMessage({ type: 'done', summary: { events, dropped: final.dropped, sessions: registry.started, endStored, progress: progress(), ...(final.lastError ? { lastError: final.lastError } : {}) } } satisfies FromObserver);
}

port.on('message', (batch: ObservationBatch) => {
  for (const message of batch.messages) {
    try {
      handle(message, batch.bodies);
    } catch (error) {
      // A bug in observing one exchange must cost that exchange's detail, never the observer.
      warn(`observer error on ${message.type}: ${(error as Error).message}`);
    }
  }
  // A batch without body bytes is progress too.
  acknowledge(0);
});
// Started: on a starved machine loading this worker can take seconds, and the proxy must not take that for a stall.
sendAck();
