/**
 * The stdio tap's observer, in a worker thread: frames the copied byte streams, normalizes each
 * frame into events and publishes them to the configured bus. Nothing here can slow the forwarding
 * thread; when this worker falls behind, the forwarding thread skips observation instead.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { collectorHomeRoot } from '../collectorHome.js';
import { EventPublisher } from '../eventPublisher.js';
import { currentHostSession } from '../hostSession.js';
import { homeRedactor, lowerThreadPriority } from '../observerThread.js';
import type { Direction } from '../normalizer.js';
import { openCollectorBus } from '../spool/collectorBus.js';
import { ChunkRing, type RingChunk } from './chunkRing.js';
import { recoverHandoffs } from './handoffRecovery.js';
import { LineFramer } from './lineFramer.js';
import type { FromObserver, ObserverConfig, ObserverPoint, ToObserver } from './observerProtocol.js';
import { ObservedProgressWriter } from './observedProgress.js';
import { sessionEndFields, stdioSession } from './stdioSession.js';

const config = workerData as ObserverConfig;
const port = parentPort!;
// The tap's home, resolved here at the default priority, in parallel with the server's start: without --home it
// loads the configuration (a schema compile of ~0.3 s under load), which on the forwarding thread delayed the
// session's first messages. The tap uses it for its running note and, at exit, for a hand-off.
if (!config.home) port.postMessage({ type: 'home', root: collectorHomeRoot(config.home, config.configFile) } satisfies FromObserver);
// The lowest priority: the forwarding thread shares this process and must never wait for it.
lowerThreadPriority(19);
const DIRECTIONS: Record<0 | 1, Direction> = { 0: 'client_to_server', 1: 'server_to_client' };
// Chunks stay in the ring until what was made of them is on the bus: the tap hands them off if it must exit first.
const ring = ChunkRing.attach(config.ring, { retain: true });
const OBSERVE_INTERVAL_MS = 5;
const RETRY_CHECK_MS = 25;
/**
 * Events held in memory before the observer waits for the bus, leaving further chunks in the ring (then the
 * tap's spill): memory stays bounded by this and one chunk's events, and nothing is dropped while the bus is slow
 * or refuses writes.
 */
const PUBLISH_AT = Math.min(1000, config.maxQueuedEvents);

const warn = (message: string): void => void process.stderr.write(`tapwire tap: ${message}\n`);
const redactor = homeRedactor(config.home, warn);

const bus = openCollectorBus({
  ...(config.home ? { home: config.home } : {}),
  ...(config.configFile ? { configFile: config.configFile } : {}),
  warn,
  onSpoolDrop: (dropped, total) => emit(normalizer.lifecycle('tap.status', Date.now(), { message: `bus unreachable and spool full: ${dropped} oldest spooled events dropped (${total} so far)`, tap: counters('spool_overflow') })),
});

let eventsEmitted = 0;
/** Events on the bus (or dropped and counted): once it equals eventsEmitted, every frame read so far is recorded. */
let eventsRecorded = 0;
let ended = false;
let sessionEndEmitted = false;
/**
 * What earlier taps of this home handed off (their sessions have ended) goes to the bus before any event of this
 * session: detectors read the bus in its order, and drift pins the first definition it reads. Recorded beside this
 * session, the sessions of taps starved on a busy laptop landed after later live ones, and a rug pull read backwards.
 * Until then this session is still framed, and its chunks wait in the ring (then the tap's spill).
 */
const earlierSessionsRecorded = recoverHandoffs(bus, {
  ...(config.home ? { home: config.home } : {}),
  ...(config.configFile ? { configFile: config.configFile } : {}),
  warn,
}).catch((error: Error) => warn(`cannot record earlier taps' hand-offs: ${error.message}`));
const publisher = new EventPublisher(
  async (topic, records) => {
    await earlierSessionsRecorded;
    // Once the tap has asked to stop, what this observer holds goes to the tap instead of the bus. The publisher never
    // calls this from inside enqueue(), so a chunk is never half framed here: the point handed over is exact.
    if (ring.stopRequested()) acknowledgeStop();
    // Stopped: what is left is recorded from the hand-off file, not from here.
    if (!ring.beginPublish()) return;
    // A batch that holds every event made so far makes the point reached now durable once it lands, even if more is
    // read while it is in flight (a remote bus): taken then, the point cannot be known again after the publish.
    const durable = eventsRecorded + publisher.stats().dropped + records.length === eventsEmitted ? recordedPoint() : undefined;
    // Before the publish, so that a tap killed during it leaves a bound past every event that may be on the bus.
    noteProgress(eventsRecorded + records.length);
    try {
      await bus.publish(topic, records);
      eventsRecorded += records.length;
      // Released inside the publish, so that the tap's hand-off never starts from a point behind what is on the bus.
      if (durable) {
        release(durable);
        recordedBytes = durable.offsets;
      }
      noteProgress(eventsRecorded);
    } finally {
      ring.endPublish();
    }
  },
  {
    maxQueued: Infinity,
    onFailure: (error) => warn(`events cannot be stored (${error.message}); traffic continues, losses will be counted`),
    // After the session has ended, its session.end event carries the final counters.
    onRecover: (dropped) => {
      if (!ended) emit(normalizer.lifecycle('tap.status', Date.now(), { message: `event store writable again; ${dropped} events dropped so far`, tap: counters('recovered') }));
    },
  },
);

const host = currentHostSession(config.parentPid);
const { normalizer, processFields } = stdioSession(config, host, redactor);
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

/** The running note's progress file (observedProgress.ts), once the tap has said where it is. */
let progress: ObservedProgressWriter | undefined;
/** Per direction, the bytes whose frames all have their events on the bus. */
let recordedBytes: [number, number] = [0, 0];

/** Tells a recovery of this session, should the tap be killed, how far it got: `mayBePublished` bounds the events on the bus. */
function noteProgress(mayBePublished: number): void {
  progress?.write({ mayBePublished, published: eventsRecorded, made: eventsEmitted, frames, read: [consumed[0], consumed[1]], recorded: recordedBytes });
}

function emit(event: McpEvent): void {
  eventsEmitted++;
  publisher.enqueue(event);
}

function counters(reason?: string): NonNullable<McpEvent['mcp']['tap']> {
  const stats = publisher.stats();
  return { frames, events: eventsEmitted, dropped: stats.dropped, bytes_unobserved: unobserved, bytes: { ...bytes }, ...(reason ? { reason } : {}) };
}

type EndMessage = Extract<ToObserver, { type: 'end' }>;

/** Bytes of each direction read from the ring, and the records read but not yet released, oldest first. */
const consumed: [number, number] = [0, 0];
const unreleased: { end: number; dir: 0 | 1; consumedAfter: number }[] = [];
let releasedAt = 0;

function visit(chunk: RingChunk): void {
  bytes[DIRECTIONS[chunk.dir]] += chunk.bytes.length;
  consumed[chunk.dir] += chunk.bytes.length;
  unreleased.push({ end: chunk.end, dir: chunk.dir, consumedAfter: consumed[chunk.dir] });
  framers[chunk.dir]!.push(chunk.bytes, chunk.timestampMs);
}

/**
 * The point every event made so far stands for: per direction, the offset below which every frame is normalized,
 * and the checkpoint a hand-off would continue from. A line still in progress is not below it, so the records it
 * started in stay in the ring and a hand-off can record it whole.
 */
function recordedPoint(): { offsets: [number, number]; checkpoint: Buffer } {
  const offsets = recordedOffsets();
  const checkpoint = Buffer.from(JSON.stringify(observerPoint(offsets, [])));
  // A session with a huge number of requests in flight leaves its correlation out rather than its position.
  return { offsets, checkpoint: checkpoint.length <= ring.checkpointCapacity ? checkpoint : Buffer.from(JSON.stringify({ ...observerPoint(offsets, []), normalizer: undefined })) };
}

/** Frees the ring's records whose bytes all belong to frames recorded at `point`, leaving its checkpoint. */
function release(point: { offsets: [number, number]; checkpoint: Buffer }): void {
  let released = 0;
  while (released < unreleased.length && unreleased[released]!.consumedAfter <= point.offsets[unreleased[released]!.dir]) released++;
  if (released > 0) releasedAt = unreleased[released - 1]!.end;
  unreleased.splice(0, released);
  ring.release(releasedAt, point.checkpoint);
}

/** Per direction, the offset below which every frame read is normalized (a line in progress is not). */
function recordedOffsets(): [number, number] {
  return [consumed[0] - framers[0]!.lineBytes(), consumed[1] - framers[1]!.lineBytes()];
}

/**
 * The tap has asked to stop: hands it everything this observer holds (the events not yet on the bus, the point
 * reached in each stream, the normalizer's state) and acknowledges, so that the hand-off continues the session
 * exactly where this observer stops, with its correlation. Not possible inside a publish (whose outcome is not
 * known yet): it is tried again after it.
 */
function acknowledgeStop(): void {
  if (ring.stopped() || ring.publishing()) return;
  config.stopPort.postMessage(observerPoint(recordedOffsets(), publisher.unpublished()));
  ring.acknowledgeStop();
}

function observerPoint(offsets: [number, number], unpublished: string[]): ObserverPoint {
  return { offsets, frames, events: eventsEmitted, dropped: publisher.stats().dropped, unpublished, normalizer: normalizer.state(), sessionEnded: sessionEndEmitted };
}

/** Reads the ring until the tap says the server is gone and the ring is empty; undefined if the tap stopped it first. */
async function observe(endSignal: Promise<EndMessage>): Promise<EndMessage | undefined> {
  let end: EndMessage | undefined;
  void endSignal.then((message) => (end = message));
  for (;;) {
    if (ring.stopRequested()) acknowledgeStop();
    if (ring.stopped()) return undefined;
    const stats = publisher.stats();
    // While the bus refuses events, chunks wait in the ring rather than as events in memory; the publisher retries.
    if (stats.failing) {
      await sleep(RETRY_CHECK_MS);
      continue;
    }
    const held = (): number => eventsEmitted - publisher.stats().published - publisher.stats().dropped;
    let read = 0;
    while (held() < PUBLISH_AT && ring.read(visit, 1) === 1) read++;
    // At the bound, the events held are published before more is read (awaiting the flush also lets timers run:
    // a loop of resolved promises here once kept the publisher's timer, and so every event, from ever running).
    if (held() >= PUBLISH_AT) {
      await publisher.flush();
      continue;
    }
    if (read > 0) {
      await nextTurn();
      continue;
    }
    if (end) return end;
    // Observation may lag traffic by a few milliseconds; in exchange it wakes at most this often. (The end
    // message is seen within this interval too: racing a promise that stays pending would leak a reaction per turn.)
    await ring.waitForData(OBSERVE_INTERVAL_MS);
  }
}

async function finish(message: EndMessage | undefined): Promise<void> {
  if (!message) return;
  ended = true;
  // With a hand-off, the rest of the session (its last line, its end) is recorded from the hand-off file.
  if (!message.handOff && !ring.stopped()) {
    sessionEndEmitted = true;
    for (const framer of framers) framer.end(message.t);
    // The tap's own totals are exact, including losses no chunk reported.
    unobserved = message.unobserved;
    bytes.client_to_server = message.forwarded[0];
    bytes.server_to_client = message.forwarded[1];
    emit(normalizer.lifecycle('session.end', message.t, { ...sessionEndFields(config, message), process: processFields(undefined, message.exitCode), tap: counters() }));
  }
  // What the bus does not take in time is handed to the tap with the rest, not dropped: whatever the tap does
  // next (hand off the spill, or what is left) starts from exactly here.
  const stats = await publisher.deliver(config.flushTimeoutMs);
  acknowledgeStop();
  await bus.close(config.flushTimeoutMs);
  progress?.close();
  port.postMessage({ type: 'done', summary: { events: eventsEmitted, dropped: stats.dropped, unpublished: stats.queued, ...(stats.lastError ? { lastError: stats.lastError } : {}) } } satisfies FromObserver);
}

let markSpawned: () => void = () => undefined;
const spawned = new Promise<void>((resolve) => (markSpawned = resolve));
const endSignal = new Promise<EndMessage>((resolve) => {
  port.on('message', (message: ToObserver) => {
    if (message.type === 'end') return resolve(message);
    if (message.type === 'progress') return void (progress = new ObservedProgressWriter(message.file));
    emit(normalizer.lifecycle('session.start', message.t, { message: `tap started MCP server ${config.name ?? config.command}`, process: processFields(message.pid) }));
    markSpawned();
  });
});
// session.start comes first in the session, so chunks wait until the server has been spawned (or failed to be).
void Promise.race([spawned, endSignal]).then(async () => finish(await observe(endSignal)));
