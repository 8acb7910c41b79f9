/**
 * The embedded loops (issue 13 item 4): events/s of the store ingest from one writer, of the bus → store sync, of the
 * detector worker's loop alone (no rule, no detector: what the loop itself costs), and of the whole embedded path end
 * to end with every detector, each beside the baselines they are judged against (a bare SQLite insert of the same
 * JSON into an id+json table; JSON.parse of the records), in one run.
 *
 * Every figure is CPU time of this one process (process.cpuUsage, user + system), so it reads as "events/s on one
 * core" and holds on the shared, loaded machine where wall time does not; the loops are single-threaded (SQLite runs
 * in the calling thread).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetectorRuntime } from '../detectors/detectorRuntime.js';
import { EmbeddedStateStore } from '../detectors/embeddedStateStore.js';
import { eventRecord } from '../collectors/eventPublisher.js';
import { TOPICS, type OutgoingRecord } from '../pipeline/bus.js';
import { EmbeddedBus } from '../pipeline/embedded/embeddedBus.js';
import { EmbeddedStore } from '../pipeline/embedded/embeddedStore.js';
import { decodeEvent } from '../pipeline/recordCodec.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import { BusDetectWorker } from '../service/busDetectWorker.js';
import { loadDetection } from '../service/detectionSetup.js';
import { runEmbeddedLoop } from '../service/embeddedLoop.js';
import { StopSignal } from '../service/stopSignal.js';
import { syncStoreFromBus } from '../service/storeSync.js';
import { createLogger } from '../pipeline/logger.js';
import { fmt, machineLine } from './benchReport.js';
import { workload } from './detectors.bench.js';

export const id = 'embedded-pipeline';

/** Sessions of the detectors workload (11 events each) for the loop figures, and for the end-to-end figure. */
const LOOP_SESSIONS = 12_000;
const END_TO_END_SESSIONS = 1_500;
const SERVERS = 150;
const INGEST_BATCH = 5000;

/** CPU seconds (user + system) `work` takes in this process. */
async function cpuSeconds(work: () => Promise<void> | void): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

function records(events: readonly McpEvent[]): OutgoingRecord[] {
  return events.map(eventRecord);
}

function bareInsert(dir: string, events: readonly McpEvent[]): Promise<number> {
  const db = new Database(join(dir, 'bare.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE events (id TEXT PRIMARY KEY, json TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO events (id, json) VALUES (?, ?)');
  const batch = db.transaction((rows: readonly McpEvent[]) => {
    for (const e of rows) insert.run(e.event.id, JSON.stringify(e));
  });
  return cpuSeconds(() => {
    for (let i = 0; i < events.length; i += INGEST_BATCH) batch(events.slice(i, i + INGEST_BATCH));
  }).finally(() => db.close());
}

/** A store file made with 4 KiB pages, as stores were before the store asked for 32 KiB (an existing file keeps its size). */
function smallPageStoreFile(file: string): string {
  const db = new Database(file);
  db.pragma('page_size = 4096');
  db.pragma('journal_mode = WAL');
  db.close();
  return file;
}

async function storeIngest(file: string, events: readonly McpEvent[]): Promise<number> {
  const store = new EmbeddedStore(file);
  try {
    return await cpuSeconds(async () => {
      for (let i = 0; i < events.length; i += INGEST_BATCH) await store.ingestEvents(events.slice(i, i + INGEST_BATCH));
    });
  } finally {
    await store.close();
  }
}

/** A bus file holding `events` on the events topic. */
function filledBus(file: string, events: readonly McpEvent[]): EmbeddedBus {
  const bus = new EmbeddedBus(file);
  const all = records(events);
  for (let i = 0; i < all.length; i += INGEST_BATCH) bus.appendSync(TOPICS.events, all.slice(i, i + INGEST_BATCH));
  return bus;
}

async function storeSync(dir: string, events: readonly McpEvent[]): Promise<number> {
  const bus = filledBus(join(dir, 'sync-bus.sqlite'), events);
  const store = new EmbeddedStore(join(dir, 'sync-store.sqlite'));
  try {
    return await cpuSeconds(async () => void (await syncStoreFromBus(bus, store)));
  } finally {
    await store.close();
    await bus.close();
  }
}

/** The detector worker over `runtime` until the bus is drained, held events released. */
async function workerDrain(bus: EmbeddedBus, store: EmbeddedStore, runtime: DetectorRuntime): Promise<void> {
  const worker = new BusDetectWorker({ bus, store, runtime });
  await worker.start();
  await worker.drain();
  await worker.releaseHeld();
  await worker.close();
}

async function bareLoop(dir: string, events: readonly McpEvent[]): Promise<number> {
  const bus = filledBus(join(dir, 'loop-bus.sqlite'), events);
  const store = new EmbeddedStore(join(dir, 'loop-store.sqlite'));
  const state = new EmbeddedStateStore(join(dir, 'loop-state.sqlite'));
  try {
    return await cpuSeconds(() => workerDrain(bus, store, new DetectorRuntime(state, { detectors: [] })));
  } finally {
    state.close();
    await store.close();
    await bus.close();
  }
}

/**
 * Bus → store sync + detector worker → store over `runtime(state)`: one pass (the `up` loop: the worker follows the
 * sync batch by batch and takes the events it decoded) or two (the sync drains the bus, then the worker reads it all
 * again and decodes every record a second time, as before the hand-off). `publish` also times the appends.
 */
async function syncAndDetect(dir: string, events: readonly McpEvent[], passes: 'one' | 'two', runtime: (state: EmbeddedStateStore) => DetectorRuntime, publish: boolean): Promise<{ seconds: number; alerts: number }> {
  const name = `${passes}-${publish ? 'e2e' : 'loop'}`;
  const all = records(events);
  const bus = publish ? new EmbeddedBus(join(dir, `${name}-bus.sqlite`)) : filledBus(join(dir, `${name}-bus.sqlite`), events);
  const store = new EmbeddedStore(join(dir, `${name}-store.sqlite`));
  const state = new EmbeddedStateStore(join(dir, `${name}-state.sqlite`));
  try {
    const seconds = await cpuSeconds(async () => {
      if (publish) for (let i = 0; i < all.length; i += 100) bus.appendSync(TOPICS.events, all.slice(i, i + 100));
      if (passes === 'two') {
        await syncStoreFromBus(bus, store);
        await workerDrain(bus, store, runtime(state));
        return;
      }
      const worker = new BusDetectWorker({ bus, store, runtime: runtime(state) });
      await worker.start();
      await runEmbeddedLoop({ bus, store, worker }, { logger: createLogger('bench', 'warn'), stop: new StopSignal(), once: true, syncStore: true });
      await worker.close();
    });
    return { seconds, alerts: (await store.alerts({ limit: 1_000_000 })).length };
  } finally {
    state.close();
    await store.close();
    await bus.close();
  }
}

/** Runs the benchmark and returns its BENCHMARKS.md section. */
export async function run(): Promise<string> {
  const events = workload(LOOP_SESSIONS, SERVERS);
  const e2eEvents = workload(END_TO_END_SESSIONS, SERVERS);
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-bench-embedded-'));
  try {
    const values = records(events).map((r) => r.value);
    const parse = await cpuSeconds(() => void values.forEach((v) => JSON.parse(v)));
    const bare = await bareInsert(dir, events);
    const decoded = values.map((v) => (decodeEvent(v) as { event: McpEvent }).event);
    const ingestSmallPages = await storeIngest(smallPageStoreFile(join(dir, 'small-pages')), decoded);
    const ingest = await storeIngest(join(dir, 'decoded'), decoded);
    const sync = await storeSync(dir, events);
    const loop = await bareLoop(dir, events);
    const noDetectors = (state: EmbeddedStateStore): DetectorRuntime => new DetectorRuntime(state, { detectors: [] });
    const loopTwo = await syncAndDetect(dir, events, 'two', noDetectors, false);
    const loopOne = await syncAndDetect(dir, events, 'one', noDetectors, false);
    const everyDetector = (state: EmbeddedStateStore): DetectorRuntime => loadDetection(state).runtime;
    const e2eTwo = await syncAndDetect(dir, e2eEvents, 'two', everyDetector, true);
    const e2e = await syncAndDetect(dir, e2eEvents, 'one', everyDetector, true);
    const rate = (n: number, seconds: number): number => n / seconds;
    const row = (what: string, n: number, seconds: number, against: number, baseline: string): string =>
      `| ${what} | ${fmt(n)} | ${fmt(rate(n, seconds))} | ${fmt(rate(n, seconds) / against, 2)}× ${baseline} |`;
    const bareRate = rate(events.length, bare);
    return [
      '## Embedded loops: store ingest, store sync, detector worker (issue 13 item 4)',
      '',
      machineLine(),
      '',
      `CPU time of one process (process.cpuUsage, user + system), so events/s on one core; load average when it ended: ${loadavg().map((l) => l.toFixed(1)).join(' / ')} on 2 shared cores. Workload: the detectors benchmark's sessions (11 events each; ${SERVERS} servers).`,
      '',
      '| stage | events | events/s (one core) | relative |',
      '|---|---|---|---|',
      row('JSON.parse of the records', events.length, parse, bareRate, 'of bare insert'),
      row('bare SQLite insert, id+json table, one writer (baseline)', events.length, bare, bareRate, 'of bare insert'),
      row(`EmbeddedStore.ingestEvents, one writer, batches of ${fmt(INGEST_BATCH)} (events + sessions/servers/tools views), events decoded from bus records as the loops hand them over, 32 KiB pages — **after**`, events.length, ingest, bareRate, 'of bare insert'),
      row('the same into a store file made with 4 KiB pages — **before**', events.length, ingestSmallPages, bareRate, 'of bare insert'),
      row('store sync: bus → decode + validate → EmbeddedStore', events.length, sync, bareRate, 'of bare insert'),
      row('detector worker loop alone (no rule, no detector): bus → runtime → state commit', events.length, loop, bareRate, 'of bare insert'),
      row('both loops, no rule or detector, one pass: the worker takes the events the sync decoded (`up` loop) — **after**', events.length, loopOne.seconds, bareRate, 'of bare insert'),
      row('both loops, no rule or detector, two passes: each decodes every record — **before**', events.length, loopTwo.seconds, bareRate, 'of bare insert'),
      row(`end to end, every rule and detector, one pass: publish → bus → store sync + detector worker → store (${fmt(e2e.alerts)} alerts) — **after**`, e2eEvents.length, e2e.seconds, bareRate, 'of bare insert'),
      row(`the same, two passes (${fmt(e2eTwo.alerts)} alerts) — **before**`, e2eEvents.length, e2eTwo.seconds, bareRate, 'of bare insert'),
      '',
      'Goals (issue 13): store ingest ≥ 100,000 events/s from one writer; embedded end to end ≥ 30,000 events/s (the detectors themselves are issue 13 items 2–3).',
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
