/**
 * The fleet path against the embedded one, in one run on one machine: events/s from the collectors' publish path
 * (EventPublisher → spool-backed Kafka publisher) through Kafka and two detector workers in one group into
 * Elasticsearch; the same events through the embedded path (EmbeddedBus → detector worker → EmbeddedStore); and the
 * disk spool's write and drain rates. Kafka and Elasticsearch are first the wire-protocol TEST BROKER (test/support, in
 * this process) and @elastic/elasticsearch-mock, which measure Tapwire's client-side work (kafkajs encoding, gzip,
 * group protocol, detectors, bulk bodies); then, when KAFKA_BROKERS and ELASTICSEARCH_URL are set, the real engines
 * of scripts/services.sh. Each path also reports its CPU time (bench/cpuTime.ts), comparable on a loaded machine.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadDetection } from '../service/detectionSetup.js';
import { EventPublisher } from '../collectors/eventPublisher.js';
import { DiskSpool } from '../collectors/spool/diskSpool.js';
import { SpoolingPublisher } from '../collectors/spool/spoolingPublisher.js';
import { BusDetectWorker } from '../service/busDetectWorker.js';
import { EmbeddedStateStore } from '../detectors/embeddedStateStore.js';
import { TOPICS } from '../pipeline/bus.js';
import { EmbeddedBus } from '../pipeline/embedded/embeddedBus.js';
import { EmbeddedStore } from '../pipeline/embedded/embeddedStore.js';
import { KafkaBus } from '../pipeline/kafka/kafkaBus.js';
import { syncStoreFromBus } from '../service/storeSync.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import { KafkaTestBroker } from '../test/support/kafkaTestBroker.js';
import { fmt, machineLine } from './benchReport.js';
import { enginePids, ownCpuSince, processCpu } from './cpuTime.js';
import { doubles, realEngines, startGroupWorkers, waitFor, type FleetTarget } from './fleetTargets.js';
import { workload } from './detectors.bench.js';

export const id = 'kafka-path';

const SESSIONS = 1_500;
const SERVERS = 150;
const SPOOL_RECORDS = 50_000;

interface PathFigures {
  events: number;
  alerts: number;
  publishPerSecond: number;
  endToEndPerSecond: number;
  /** CPU seconds over the path: this process (publisher, workers, writers), and the engines' JVMs when they run. */
  cpu: { own: number; kafka: number; elasticsearch: number };
}

/** CPU counters at the start of a path; `cpuSince` gives what each used since. */
function cpuMark(): { own: NodeJS.CpuUsage; kafka: number; elasticsearch: number; pids: ReturnType<typeof enginePids> } {
  const pids = enginePids();
  return { own: process.cpuUsage(), kafka: processCpu(pids.kafka), elasticsearch: processCpu(pids.elasticsearch), pids };
}

function cpuSince(mark: ReturnType<typeof cpuMark>, engines: boolean): PathFigures['cpu'] {
  return { own: ownCpuSince(mark.own), kafka: engines ? processCpu(mark.pids.kafka) - mark.kafka : 0, elasticsearch: engines ? processCpu(mark.pids.elasticsearch) - mark.elasticsearch : 0 };
}

/** Publishes every event as a collector does and returns when the publisher has handed them all to `publish`. */
async function publishAsCollector(events: readonly McpEvent[], publish: ConstructorParameters<typeof EventPublisher>[0]): Promise<number> {
  const publisher = new EventPublisher(publish, { maxQueued: events.length + 1 });
  const started = performance.now();
  for (const event of events) publisher.enqueue(event);
  await publisher.close(600_000);
  return events.length / ((performance.now() - started) / 1000);
}

/** Collector publish path → Kafka → two group workers → Elasticsearch. */
async function kafkaPath(events: readonly McpEvent[], dir: string, target: FleetTarget): Promise<PathFigures> {
  const { settings } = target;
  const workers = await startGroupWorkers(target, dir);
  try {
    const collector = new KafkaBus(settings, { role: 'collector' });
    const spooling = new SpoolingPublisher((topic, records) => collector.publish(topic, records), new DiskSpool(join(dir, 'collector-spool.sqlite'), 256 * 2 ** 20));
    const mark = cpuMark();
    const started = performance.now();
    const publishPerSecond = await publishAsCollector(events, (topic, records) => spooling.publish(topic, records));
    await waitFor(async () => (await target.documents('messages')) >= events.length, 250);
    await waitFor(async () => (await collector.lag(target.group, TOPICS.serverEvents)) === 0);
    const endToEndPerSecond = events.length / ((performance.now() - started) / 1000);
    const cpu = cpuSince(mark, target.realEngines);
    await spooling.close(1000);
    await collector.close();
    await workers.settle();
    return { events: events.length, alerts: await target.documents('alerts'), publishPerSecond, endToEndPerSecond, cpu };
  } finally {
    await workers.stop();
    await target.close();
  }
}

/** Collector publish path → embedded bus → detector worker → embedded store (events by the store sync). */
async function embeddedPath(events: readonly McpEvent[], dir: string): Promise<PathFigures> {
  const bus = new EmbeddedBus(join(dir, 'bus.sqlite'));
  const store = new EmbeddedStore(join(dir, 'store.sqlite'));
  const state = new EmbeddedStateStore(join(dir, 'state.sqlite'));
  try {
    const mark = cpuMark();
    const started = performance.now();
    const publishPerSecond = await publishAsCollector(events, (topic, records) => void bus.appendSync(topic, records));
    const worker = new BusDetectWorker({ bus, store, runtime: loadDetection(state).runtime });
    await worker.start();
    await worker.drain();
    await worker.releaseHeld();
    await syncStoreFromBus(bus, store);
    const endToEndPerSecond = events.length / ((performance.now() - started) / 1000);
    const cpu = cpuSince(mark, false);
    await worker.close();
    return { events: events.length, alerts: worker.totals.alerts, publishPerSecond, endToEndPerSecond, cpu };
  } finally {
    state.close();
    await store.close();
    await bus.close();
  }
}

/** Spool append rate (bus down), then drain rate into the broker (the test broker, or `brokers`) once it is up. */
async function spoolRates(dir: string, brokers?: string[]): Promise<{ writePerSecond: number; writeMiBps: number; drainPerSecond: number; writeCpu: number; drainCpu: number }> {
  const records = Array.from({ length: SPOOL_RECORDS }, (_, i) => ({ key: `host-${i % 64}`, value: JSON.stringify({ i, payload: 'x'.repeat(700) }) }));
  const spool = new DiskSpool(join(dir, 'spool.sqlite'), 1024 * 2 ** 20);
  const writeCpuMark = process.cpuUsage();
  const writeStart = performance.now();
  for (let i = 0; i < records.length; i += 1000) spool.append(TOPICS.events, records.slice(i, i + 1000));
  const writeSeconds = (performance.now() - writeStart) / 1000;
  const writeCpu = ownCpuSince(writeCpuMark);
  const bytes = spool.depth().bytes;
  const broker = brokers ? undefined : await KafkaTestBroker.start({ autoCreateTopics: false });
  const run = `spool${process.pid}${Date.now().toString(36)}`;
  const topics = brokers ? { topics: { events: `${run}.events`, alerts: `${run}.alerts`, deadLetters: `${run}.dlq`, serverEvents: `${run}.server-events` } } : {};
  const bus = new KafkaBus({ brokers: brokers ?? broker!.brokers, partitions: 4, ...topics }, { role: 'collector' });
  try {
    await bus.ensureTopics();
    let drained = 0;
    const drainCpuMark = process.cpuUsage();
    const drainStart = performance.now();
    const publisher = new SpoolingPublisher((topic, batch) => bus.publish(topic, batch), spool, { onDrained: (n) => (drained = n) });
    await waitFor(() => drained > 0);
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const drainCpu = ownCpuSince(drainCpuMark);
    await publisher.close(1000);
    return { writePerSecond: SPOOL_RECORDS / writeSeconds, writeMiBps: bytes / 2 ** 20 / writeSeconds, drainPerSecond: drained / drainSeconds, writeCpu, drainCpu };
  } finally {
    await bus.close();
    await broker?.stop();
  }
}

const cpuPerThousand = (path: PathFigures): string => fmt((path.cpu.own / path.events) * 1000, 2);

/** Runs the three measurements and returns the BENCHMARKS.md section. */
export async function run(): Promise<string> {
  const events = workload(SESSIONS, SERVERS);
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-bench-kafka-'));
  try {
    mkdirSync(join(dir, 'embedded'));
    mkdirSync(join(dir, 'kafka'));
    mkdirSync(join(dir, 'spool'));
    const embedded = await embeddedPath(events, join(dir, 'embedded'));
    const kafka = await kafkaPath(events, join(dir, 'kafka'), await doubles());
    const spool = await spoolRates(join(dir, 'spool'));
    const brokers = process.env.KAFKA_BROKERS?.split(',').filter(Boolean);
    const node = process.env.ELASTICSEARCH_URL;
    let real: { path: PathFigures; spool: Awaited<ReturnType<typeof spoolRates>> } | undefined;
    if (brokers?.length && node) {
      mkdirSync(join(dir, 'real'));
      mkdirSync(join(dir, 'real-spool'));
      real = { path: await kafkaPath(events, join(dir, 'real'), await realEngines(brokers, node)), spool: await spoolRates(join(dir, 'real-spool'), brokers) };
    }
    return [
      '## Kafka path vs embedded path, and the collector spool (issue 6)',
      '',
      machineLine(),
      '',
      // Same-run ratios stay comparable; absolute rates drop with whatever else runs on the 2 cores.
      `Load average (1/5/15 min) when the measurements ended: ${loadavg().map((l) => fmt(l, 1)).join(' / ')} on ${availableParallelism()} cores.`,
      '',
      `Workload: ${fmt(events.length)} events (${fmt(SESSIONS)} sessions on ${fmt(SERVERS)} servers, from the detectors benchmark). Both paths run the rule pack and every stateful detector. **In the second row Kafka is the wire-protocol test broker (test/support/kafkaTestBroker.ts) in the same process and Elasticsearch is @elastic/elasticsearch-mock**: that row measures Tapwire's own work on the path, not a cluster; the real-engine row runs the same path against the engines of scripts/services.sh.`,
      '',
      '| path | collector publish, events/s | end to end into the sink, events/s | relative | CPU s / 1000 events: this process | Kafka JVM / ES JVM | alerts |',
      '|---|---|---|---|---|---|---|',
      `| embedded: EventPublisher → EmbeddedBus → detector worker → EmbeddedStore | ${fmt(embedded.publishPerSecond)} | ${fmt(embedded.endToEndPerSecond)} | 1.00× | ${cpuPerThousand(embedded)} | — | ${fmt(embedded.alerts)} |`,
      `| Kafka (test broker + ES mock): EventPublisher → spool-backed KafkaBus (gzip, idempotent, acks=all) → 2 group workers (events + server-keyed topic) → EsStore bulk | ${fmt(kafka.publishPerSecond)} | ${fmt(kafka.endToEndPerSecond)} | ${fmt(kafka.endToEndPerSecond / embedded.endToEndPerSecond, 2)}× | ${cpuPerThousand(kafka)} (broker double included) | — | ${fmt(kafka.alerts)} |`,
      ...(real
        ? [
            `| **real engines**: the same path into Apache Kafka 4.1 (KRaft, one node) and Elasticsearch 9.4 (integ-test-zip, one node), started by scripts/services.sh | ${fmt(real.path.publishPerSecond)} | ${fmt(real.path.endToEndPerSecond)} | ${fmt(real.path.endToEndPerSecond / embedded.endToEndPerSecond, 2)}× | ${cpuPerThousand(real.path)} | ${fmt((real.path.cpu.kafka / real.path.events) * 1000, 2)} / ${fmt((real.path.cpu.elasticsearch / real.path.events) * 1000, 2)} | ${fmt(real.path.alerts)} |`,
          ]
        : ['| real engines | not measured: KAFKA_BROKERS and ELASTICSEARCH_URL unset (scripts/services.sh up) | | | | | |']),
      '',
      `Spool (SQLite, ${fmt(SPOOL_RECORDS)} records of ~730 bytes): append ${fmt(spool.writePerSecond)} records/s (${fmt(spool.writeMiBps, 1)} MiB/s; ${fmt(SPOOL_RECORDS / spool.writeCpu)} records per CPU second) while the bus is down; drain into the test broker ${fmt(spool.drainPerSecond)} records/s once it is back (${fmt(SPOOL_RECORDS / spool.drainCpu)} records per CPU second of this process, the broker double included)${real ? `; against the real Kafka 4 broker: append ${fmt(real.spool.writePerSecond)} records/s (${fmt(SPOOL_RECORDS / real.spool.writeCpu)} per CPU second), drain ${fmt(real.spool.drainPerSecond)} records/s (${fmt(SPOOL_RECORDS / real.spool.drainCpu)} per CPU second of this process; the broker's JVM works beside it)` : ''}.`,
      ...(real
        ? [
            '',
            'What shares the 2 cores in the real-engine row: the Kafka broker JVM (heap 512 MB) and the Elasticsearch JVM (heap 1 GB) as separate processes (shared with the other engineers on this machine: their CPU columns include whatever else used the engines in the window), and in this one Node process the collector publisher, both group workers (rule pack + every stateful detector) and both bulk writers; other engineers\' work on the same machine also runs (load average above). CPU time is from process.cpuUsage() and /proc; the alert count is read from the cluster (`_count` on the alerts data stream).',
          ]
        : []),
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
