/**
 * The fleet path against the embedded one, in one run on one machine: events/s from the collectors' publish path
 * (EventPublisher → spool-backed Kafka publisher) through the Kafka TEST BROKER (test/support, in this process) and two
 * detector workers in one group into Elasticsearch as the @elastic/elasticsearch-mock cluster; the same events
 * through the embedded path (EmbeddedBus → detector worker → EmbeddedStore); and the disk spool's write and drain
 * rates. The test broker and the mock stand in for Kafka and Elasticsearch, which cannot run here: the Kafka figures
 * measure Tapwire's client-side work (kafkajs encoding, gzip, group protocol, detectors, bulk bodies), not a cluster.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadDetection } from '../cli/detectionSetup.js';
import { indexedTextFields } from '../cli/configuredStore.js';
import { EventPublisher } from '../collectors/eventPublisher.js';
import { DiskSpool } from '../collectors/spool/diskSpool.js';
import { SpoolingPublisher } from '../collectors/spool/spoolingPublisher.js';
import { BusDetectWorker } from '../detectors/busDetectWorker.js';
import { EmbeddedStateStore } from '../detectors/embeddedStateStore.js';
import { GroupDetectWorker } from '../detectors/groupDetectWorker.js';
import { TOPICS } from '../pipeline/bus.js';
import { EmbeddedBus } from '../pipeline/embedded/embeddedBus.js';
import { EmbeddedStore } from '../pipeline/embedded/embeddedStore.js';
import { Client as EsClient } from '@elastic/elasticsearch';
import { installEsTemplates } from '../pipeline/elasticsearch/esSetup.js';
import { EsStore } from '../pipeline/elasticsearch/esStore.js';
import { KafkaBus } from '../pipeline/kafka/kafkaBus.js';
import { syncStoreFromBus } from '../pipeline/storeSync.js';
import type { KafkaSettings } from '../pipeline/config.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import { MockCluster } from '../test/elasticsearch/mockCluster.js';
import { KafkaTestBroker } from '../test/support/kafkaTestBroker.js';
import { fmt, machineLine } from './benchReport.js';
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
}

async function waitFor(condition: () => boolean | Promise<boolean>, pollMs = 20): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, pollMs));
}

/** Publishes every event as a collector does and returns when the publisher has handed them all to `publish`. */
async function publishAsCollector(events: readonly McpEvent[], publish: ConstructorParameters<typeof EventPublisher>[0]): Promise<number> {
  const publisher = new EventPublisher(publish, { maxQueued: events.length + 1 });
  const started = performance.now();
  for (const event of events) publisher.enqueue(event);
  await publisher.close(600_000);
  return events.length / ((performance.now() - started) / 1000);
}

/** Where the Kafka path runs: the test broker and the ES mock, or the real engines. */
interface FleetTarget {
  settings: KafkaSettings;
  group: string;
  namespace: string;
  esClient(): EsClient;
  documents(stream: 'messages' | 'alerts'): Promise<number>;
  close(): Promise<void>;
}

/** The wire-protocol test broker in this process and the @elastic/elasticsearch-mock cluster. */
async function doubles(): Promise<FleetTarget> {
  const broker = await KafkaTestBroker.start({ autoCreateTopics: false });
  const cluster = new MockCluster();
  return {
    settings: { brokers: broker.brokers, partitions: 4, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
    group: 'detectors',
    namespace: 'default',
    esClient: () => cluster.client(),
    documents: async (stream) => cluster.documents(`logs-mcp.${stream}-default`).length,
    close: () => broker.stop(),
  };
}

/** The real Kafka and Elasticsearch (scripts/services.sh), with topics, group and namespace of this run's own. */
async function realEngines(brokers: string[], node: string): Promise<FleetTarget> {
  const run = `bench${process.pid}${Date.now().toString(36)}`;
  const admin = new EsClient({ node });
  await installEsTemplates(admin, { namespace: run });
  return {
    settings: { brokers, partitions: 4, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, topics: { events: `${run}.events`, alerts: `${run}.alerts`, deadLetters: `${run}.dlq`, serverEvents: `${run}.server-events` } },
    group: `${run}-detectors`,
    namespace: run,
    esClient: () => new EsClient({ node }),
    documents: async (stream) => {
      const index = `logs-mcp.${stream}-${run}`;
      await admin.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
      return (await admin.count({ index, ignore_unavailable: true, allow_no_indices: true }).catch(() => ({ count: 0 }))).count;
    },
    close: () => admin.close(),
  };
}

/** Collector publish path → Kafka → two group workers → Elasticsearch. */
async function kafkaPath(events: readonly McpEvent[], dir: string, target: FleetTarget): Promise<PathFigures> {
  const { settings } = target;
  const workers: { worker: GroupDetectWorker; bus: KafkaBus; store: EsStore }[] = [];
  try {
    mkdirSync(join(dir, 'state'));
    for (const name of ['worker-1', 'worker-2']) {
      const bus = new KafkaBus(settings, { role: 'worker', clientId: name });
      const store = new EsStore(target.esClient(), { namespace: target.namespace, textFieldsOf: indexedTextFields, flushIntervalMs: 100 });
      const worker = new GroupDetectWorker({
        bus,
        store,
        group: target.group,
        openState: (topic, partition) => new EmbeddedStateStore(join(dir, 'state', `${topic}.${partition}.sqlite`)),
        createRuntime: (state, partitionBy) => loadDetection(state, { partitionBy }).runtime,
      });
      await worker.start();
      workers.push({ worker, bus, store });
    }
    const collector = new KafkaBus(settings, { role: 'collector' });
    const spooling = new SpoolingPublisher((topic, records) => collector.publish(topic, records), new DiskSpool(join(dir, 'collector-spool.sqlite'), 256 * 2 ** 20));
    const started = performance.now();
    const publishPerSecond = await publishAsCollector(events, (topic, records) => spooling.publish(topic, records));
    await waitFor(async () => (await target.documents('messages')) >= events.length, 250);
    await waitFor(async () => (await collector.lag(target.group, TOPICS.serverEvents)) === 0);
    const endToEndPerSecond = events.length / ((performance.now() - started) / 1000);
    await spooling.close(1000);
    await collector.close();
    return { events: events.length, alerts: await target.documents('alerts'), publishPerSecond, endToEndPerSecond };
  } finally {
    for (const { worker, bus, store } of workers) {
      await worker.stop();
      await store.close();
      await bus.close();
    }
    await target.close();
  }
}

/** Collector publish path → embedded bus → detector worker → embedded store (events by the store sync). */
async function embeddedPath(events: readonly McpEvent[], dir: string): Promise<PathFigures> {
  const bus = new EmbeddedBus(join(dir, 'bus.sqlite'));
  const store = new EmbeddedStore(join(dir, 'store.sqlite'));
  const state = new EmbeddedStateStore(join(dir, 'state.sqlite'));
  try {
    const started = performance.now();
    const publishPerSecond = await publishAsCollector(events, (topic, records) => void bus.appendSync(topic, records));
    const worker = new BusDetectWorker({ bus, store, runtime: loadDetection(state).runtime });
    await worker.start();
    await worker.drain();
    await worker.releaseHeld();
    await syncStoreFromBus(bus, store);
    const endToEndPerSecond = events.length / ((performance.now() - started) / 1000);
    await worker.close();
    return { events: events.length, alerts: worker.totals.alerts, publishPerSecond, endToEndPerSecond };
  } finally {
    state.close();
    await store.close();
    await bus.close();
  }
}

/** Spool append rate (bus down), then drain rate into the broker (the test broker, or `brokers`) once it is up. */
async function spoolRates(dir: string, brokers?: string[]): Promise<{ writePerSecond: number; writeMiBps: number; drainPerSecond: number }> {
  const records = Array.from({ length: SPOOL_RECORDS }, (_, i) => ({ key: `host-${i % 64}`, value: JSON.stringify({ i, payload: 'x'.repeat(700) }) }));
  const spool = new DiskSpool(join(dir, 'spool.sqlite'), 1024 * 2 ** 20);
  const writeStart = performance.now();
  for (let i = 0; i < records.length; i += 1000) spool.append(TOPICS.events, records.slice(i, i + 1000));
  const writeSeconds = (performance.now() - writeStart) / 1000;
  const bytes = spool.depth().bytes;
  const broker = brokers ? undefined : await KafkaTestBroker.start({ autoCreateTopics: false });
  const run = `spool${process.pid}${Date.now().toString(36)}`;
  const topics = brokers ? { topics: { events: `${run}.events`, alerts: `${run}.alerts`, deadLetters: `${run}.dlq`, serverEvents: `${run}.server-events` } } : {};
  const bus = new KafkaBus({ brokers: brokers ?? broker!.brokers, partitions: 4, ...topics }, { role: 'collector' });
  try {
    await bus.ensureTopics();
    let drained = 0;
    const drainStart = performance.now();
    const publisher = new SpoolingPublisher((topic, batch) => bus.publish(topic, batch), spool, { onDrained: (n) => (drained = n) });
    await waitFor(() => drained > 0);
    const drainSeconds = (performance.now() - drainStart) / 1000;
    await publisher.close(1000);
    return { writePerSecond: SPOOL_RECORDS / writeSeconds, writeMiBps: bytes / 2 ** 20 / writeSeconds, drainPerSecond: drained / drainSeconds };
  } finally {
    await bus.close();
    await broker?.stop();
  }
}

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
      `Workload: ${fmt(events.length)} events (${fmt(SESSIONS)} sessions on ${fmt(SERVERS)} servers, from the detectors benchmark). Both paths run the rule pack and every stateful detector. **Kafka here is the wire-protocol test broker (test/support/kafkaTestBroker.ts) in the same process, and Elasticsearch is @elastic/elasticsearch-mock**: the figures measure Tapwire's own work on the path, not a cluster; both share the machine's 2 cores with the workers.`,
      '',
      '| path | collector publish, events/s | end to end into the sink, events/s | relative | alerts |',
      '|---|---|---|---|---|',
      `| embedded: EventPublisher → EmbeddedBus → detector worker → EmbeddedStore | ${fmt(embedded.publishPerSecond)} | ${fmt(embedded.endToEndPerSecond)} | 1.00× | ${fmt(embedded.alerts)} |`,
      `| Kafka (test broker + ES mock): EventPublisher → spool-backed KafkaBus (gzip, idempotent, acks=all) → 2 group workers (events + server-keyed topic) → EsStore bulk | ${fmt(kafka.publishPerSecond)} | ${fmt(kafka.endToEndPerSecond)} | ${fmt(kafka.endToEndPerSecond / embedded.endToEndPerSecond, 2)}× | ${fmt(kafka.alerts)} |`,
      ...(real
        ? [
            `| **real engines**: the same path into Apache Kafka 4.1 (KRaft, one node) and Elasticsearch 9.4 (integ-test-zip, one node), started by scripts/services.sh | ${fmt(real.path.publishPerSecond)} | ${fmt(real.path.endToEndPerSecond)} | ${fmt(real.path.endToEndPerSecond / embedded.endToEndPerSecond, 2)}× | ${fmt(real.path.alerts)} |`,
          ]
        : ['| real engines | not measured: KAFKA_BROKERS and ELASTICSEARCH_URL unset (scripts/services.sh up) | | | |']),
      '',
      `Spool (SQLite, ${fmt(SPOOL_RECORDS)} records of ~730 bytes): append ${fmt(spool.writePerSecond)} records/s (${fmt(spool.writeMiBps, 1)} MiB/s) while the bus is down; drain into the test broker ${fmt(spool.drainPerSecond)} records/s once it is back${real ? `; drain into the real Kafka 4 broker ${fmt(real.spool.drainPerSecond)} records/s (append ${fmt(real.spool.writePerSecond)} records/s in that run)` : ''}.`,
      ...(real
        ? [
            '',
            'What shares the 2 cores in the real-engine row: the Kafka broker JVM (heap 512 MB) and the Elasticsearch JVM (heap 1 GB) as separate processes, and in this one Node process the collector publisher, both group workers (rule pack + every stateful detector) and both bulk writers; other engineers\' work on the same machine may also run. The alert count is read from the cluster (`_count` on the alerts data stream).',
          ]
        : []),
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
