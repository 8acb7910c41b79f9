/**
 * The stdio tap's observer, in a worker thread: frames the copied byte streams, normalizes each
 * frame into events and publishes them to the embedded bus. Nothing here can slow the forwarding
 * thread; when this worker falls behind, the forwarding thread skips observation instead.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { basename } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { ensureHome, resolveHome } from '../../pipeline/home.js';
import { tapwireVersion } from '../../pipeline/packagePaths.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { EventPublisher } from '../eventPublisher.js';
import { currentHostSession } from '../hostSession.js';
import { type Direction, SessionNormalizer } from '../normalizer.js';
import { Redactor } from '../redaction.js';
import { LineFramer } from './lineFramer.js';
import type { FromObserver, ObserverConfig, StreamIndex, ToObserver } from './observerProtocol.js';

const config = workerData as ObserverConfig;
const port = parentPort!;
const DIRECTIONS: Record<StreamIndex, Direction> = { 0: 'client_to_server', 1: 'server_to_client' };

const paths = resolveHome(config.home);
let redactor: Redactor;
try {
  ensureHome(config.home);
  redactor = Redactor.forKeyFile(paths.redactionKey);
} catch (error) {
  // Without the home's key, secrets are still replaced, but their hashes only correlate within this session.
  process.stderr.write(`tapwire tap: cannot use home ${paths.root}: ${(error as Error).message}\n`);
  redactor = new Redactor(randomBytes(32));
}

let bus: EmbeddedBus | undefined;
function openBus(): EmbeddedBus {
  // A short busy timeout: this thread must come back to its queue (and count losses) rather than wait on a lock.
  bus ??= new EmbeddedBus(paths.bus, { busyTimeoutMs: 250 });
  return bus;
}

let eventsEmitted = 0;
let ended = false;
const publisher = new EventPublisher(
  (topic, records) => {
    openBus().appendSync(topic, records);
  },
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

let pendingAck = 0;
function acknowledge(n: number): void {
  // Acks are coalesced: one message per turn of the event loop, not one per chunk.
  if (pendingAck === 0) setImmediate(() => {
    port.postMessage({ type: 'ack', bytes: pendingAck } satisfies FromObserver);
    pendingAck = 0;
  });
  pendingAck += n;
}

async function finish(message: Extract<ToObserver, { type: 'end' }>): Promise<void> {
  ended = true;
  for (const framer of framers) framer.end(message.t);
  unobserved = message.unobservedBytes;
  const outcome = message.error ? 'failure' : 'success';
  const how = message.error ?? (message.signal ? `killed by ${message.signal}` : `exited with code ${message.exitCode}`);
  const processInfo = { ...processFields(undefined), ...(message.exitCode !== null ? { exit_code: message.exitCode } : {}) };
  emit(normalizer.lifecycle('session.end', message.t, { message: `MCP server ${config.name ?? config.command} ${how}`, outcome, process: processInfo, tap: counters() }));
  const stats = await publisher.close(config.flushTimeoutMs);
  bus?.close();
  port.postMessage({ type: 'done', summary: { events: eventsEmitted, dropped: stats.dropped, ...(stats.lastError ? { lastError: stats.lastError } : {}) } } satisfies FromObserver);
}

port.on('message', (message: ToObserver) => {
  switch (message.type) {
    case 'chunk': {
      const chunk = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
      bytes[DIRECTIONS[message.dir]] += chunk.length;
      framers[message.dir]!.push(chunk, message.t);
      acknowledge(chunk.length);
      break;
    }
    case 'gap':
      bytes[DIRECTIONS[message.dir]] += message.bytes;
      unobserved += message.bytes;
      framers[message.dir]!.gap();
      break;
    case 'start':
      emit(normalizer.lifecycle('session.start', message.t, { message: `tap started MCP server ${config.name ?? config.command}`, process: processFields(message.pid) }));
      break;
    case 'end':
      void finish(message);
      break;
  }
});

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
