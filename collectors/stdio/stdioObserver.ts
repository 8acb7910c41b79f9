/**
 * The stdio tap's observer, in a worker thread: frames the copied byte streams, normalizes each
 * frame into events and publishes them to the configured bus. Nothing here can slow the forwarding
 * thread; when this worker falls behind, the forwarding thread skips observation instead.
 */
import { hostname, userInfo } from 'node:os';
import { basename } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { tapwireVersion } from '../../pipeline/packagePaths.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { EventPublisher } from '../eventPublisher.js';
import { currentHostSession } from '../hostSession.js';
import { homeRedactor, lowerThreadPriority } from '../observerThread.js';
import { type Direction, SessionNormalizer } from '../normalizer.js';
import { openCollectorBus } from '../spool/collectorBus.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ChunkRing, type RingChunk } from './chunkRing.js';
import { LineFramer } from './lineFramer.js';
import type { FromObserver, ObserverConfig, ToObserver } from './observerProtocol.js';

const config = workerData as ObserverConfig;
const port = parentPort!;
// The lowest priority: the forwarding thread shares this process and must never wait for it.
lowerThreadPriority(19);
const DIRECTIONS: Record<0 | 1, Direction> = { 0: 'client_to_server', 1: 'server_to_client' };
const ring = ChunkRing.attach(config.ring);
const OBSERVE_INTERVAL_MS = 5;

const redactor = homeRedactor(config.home, (message) => process.stderr.write(`tapwire tap: ${message}\n`));

const bus = openCollectorBus({
  ...(config.home ? { home: config.home } : {}),
  ...(config.configFile ? { configFile: config.configFile } : {}),
  warn: (message) => process.stderr.write(`tapwire tap: ${message}\n`),
  onSpoolDrop: (dropped, total) => emit(normalizer.lifecycle('tap.status', Date.now(), { message: `bus unreachable and spool full: ${dropped} oldest spooled events dropped (${total} so far)`, tap: counters('spool_overflow') })),
});

let eventsEmitted = 0;
let ended = false;
const publisher = new EventPublisher(
  (topic, records) => bus.publish(topic, records),
  {
    maxQueued: config.maxQueuedEvents,
    onFailure: (error) => process.stderr.write(`tapwire tap: events cannot be stored (${error.message}); traffic continues, losses will be counted\n`),
    // After the session has ended, its session.end event carries the final counters.
    onRecover: (dropped) => {
      if (!ended) emit(normalizer.lifecycle('tap.status', Date.now(), { message: `event store writable again; ${dropped} events dropped so far`, tap: counters('recovered') }));
    },
  },
);

const host = currentHostSession(config.parentPid);
const commandLine = redactor.args([config.command, ...config.args]);
const normalizer = new SessionNormalizer(
  {
    sessionId: config.sessionId,
    hostSessionId: host.id,
    transport: 'stdio',
    serverId: `stdio:${commandLine.join(' ')}`,
    ...(config.name ? { serverName: config.name } : {}),
    context: {
      host: { hostname: hostname(), name: hostname() },
      observer: { type: 'stdio_tap', product: 'tapwire', vendor: 'Tapwire', version: tapwireVersion(), hostname: hostname() },
      network: { transport: 'pipe', protocol: 'mcp' },
      user: { name: safeUserName() },
    },
  },
  { redactor },
);

const bytes = { client_to_server: 0, server_to_client: 0 };
let frames = 0;
let unobserved = 0;
const framers = ([0, 1] as const).map(
  (index) =>
    new LineFramer(
      {
        frame: (line, t) => {
          frames++;
          for (const event of normalizer.frame(DIRECTIONS[index], line, t)) emit(event);
        },
        oversized: (excerpt, size, t) => {
          frames++;
          emit(normalizer.unparsed(DIRECTIONS[index], excerpt, size, t, `frame of ${size} bytes exceeds the ${config.maxFrameBytes}-byte limit`));
        },
      },
      config.maxFrameBytes,
    ),
);

function emit(event: McpEvent): void {
  eventsEmitted++;
  publisher.enqueue(event);
}

function counters(reason?: string): NonNullable<McpEvent['mcp']['tap']> {
  const stats = publisher.stats();
  return { frames, events: eventsEmitted, dropped: stats.dropped, bytes_unobserved: unobserved, bytes: { ...bytes }, ...(reason ? { reason } : {}) };
}

function processFields(pid: number | undefined): NonNullable<McpEvent['process']> {
  return {
    ...(pid ? { pid } : {}),
    name: basename(config.command),
    executable: commandLine[0]!,
    args: commandLine,
    command_line: commandLine.join(' '),
    parent: { pid: host.hostPid, ...(host.hostStart ? { start: host.hostStart } : {}) },
  };
}

type EndMessage = Extract<ToObserver, { type: 'end' }>;

function visit(chunk: RingChunk): void {
  const framer = framers[chunk.dir]!;
  bytes[DIRECTIONS[chunk.dir]] += chunk.bytes.length + chunk.lostBefore;
  if (chunk.lostBefore > 0) {
    unobserved += chunk.lostBefore;
    framer.gap();
  }
  framer.push(chunk.bytes, chunk.timestampMs);
}

/** Reads the ring until the tap says the server is gone and the ring is empty. */
async function observe(endSignal: Promise<EndMessage>): Promise<EndMessage> {
  let end: EndMessage | undefined;
  void endSignal.then((message) => (end = message));
  for (;;) {
    // Bounded batches, so the publisher's timers run even under a firehose.
    if (ring.read(visit, 1000) === 1000) {
      await nextTurn();
      continue;
    }
    if (end) return end;
    // Observation may lag traffic by a few milliseconds; in exchange it wakes at most this often.
    await Promise.race([ring.waitForData(OBSERVE_INTERVAL_MS), endSignal]);
  }
}

async function finish(message: EndMessage): Promise<void> {
  ended = true;
  message.lostAtEnd.forEach((lost, dir) => {
    if (lost > 0) framers[dir]!.gap();
  });
  for (const framer of framers) framer.end(message.t);
  // The tap's own totals are exact, including losses no chunk reported.
  unobserved = message.unobserved;
  bytes.client_to_server = message.forwarded[0];
  bytes.server_to_client = message.forwarded[1];
  const outcome = message.error ? 'failure' : 'success';
  const how = message.error ?? (message.signal ? `killed by ${message.signal}` : `exited with code ${message.exitCode}`);
  const processInfo = { ...processFields(undefined), ...(message.exitCode !== null ? { exit_code: message.exitCode } : {}) };
  emit(normalizer.lifecycle('session.end', message.t, { message: `MCP server ${config.name ?? config.command} ${how}`, outcome, process: processInfo, tap: counters() }));
  const stats = await publisher.close(config.flushTimeoutMs);
  await bus.close(config.flushTimeoutMs);
  port.postMessage({ type: 'done', summary: { events: eventsEmitted, dropped: stats.dropped, ...(stats.lastError ? { lastError: stats.lastError } : {}) } } satisfies FromObserver);
}

let markSpawned: () => void = () => undefined;
const spawned = new Promise<void>((resolve) => (markSpawned = resolve));
const endSignal = new Promise<EndMessage>((resolve) => {
  port.on('message', (message: ToObserver) => {
    if (message.type === 'end') return resolve(message);
    emit(normalizer.lifecycle('session.start', message.t, { message: `tap started MCP server ${config.name ?? config.command}`, process: processFields(message.pid) }));
    markSpawned();
  });
});
// session.start comes first in the session, so chunks wait until the server has been spawned (or failed to be).
void Promise.race([spawned, endSignal]).then(async () => finish(await observe(endSignal)));

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
