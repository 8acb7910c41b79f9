/**
 * Where the benchmarks' Kafka path runs, and the two detector workers of one group that consume it: the wire-protocol
 * test broker with the @elastic/elasticsearch-mock cluster, or the real Kafka and Elasticsearch of
 * scripts/services.sh with topics, group and namespace of the run's own (other engineers share those engines).
 * Shared by the kafka-path and fleet-taps benchmarks so both measure the same worker wiring.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client as EsClient } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import { loadDetection } from '../service/detectionSetup.js';
import { indexedTextFields } from '../service/configuredStore.js';
import { EmbeddedStateStore } from '../detectors/embeddedStateStore.js';
import { GroupDetectWorker } from '../service/groupDetectWorker.js';
import type { KafkaSettings } from '../pipeline/config.js';
import { installEsTemplates } from '../pipeline/elasticsearch/esSetup.js';
import { EsStore } from '../pipeline/elasticsearch/esStore.js';
import { KafkaBus } from '../pipeline/kafka/kafkaBus.js';
import { MockCluster } from '../test/elasticsearch/mockCluster.js';
import { KafkaTestBroker } from '../test/support/kafkaTestBroker.js';

export interface FleetTarget {
  /** The real engines (their JVMs' CPU time counts), or the in-process doubles. */
  realEngines: boolean;
  settings: KafkaSettings;
  group: string;
  namespace: string;
  esClient(): EsClient;
  documents(stream: 'messages' | 'alerts'): Promise<number>;
  close(): Promise<void>;
}

/** The wire-protocol test broker in this process and the @elastic/elasticsearch-mock cluster. */
export async function doubles(): Promise<FleetTarget> {
  const broker = await KafkaTestBroker.start({ autoCreateTopics: false });
  const cluster = new MockCluster();
  return {
    realEngines: false,
    settings: { brokers: broker.brokers, partitions: 4, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
    group: 'detectors',
    namespace: 'default',
    esClient: () => cluster.client(),
    documents: async (stream) => cluster.documents(`logs-mcp.${stream}-default`).length,
    close: () => broker.stop(),
  };
}

/** The real Kafka and Elasticsearch (scripts/services.sh), with topics, group and namespace named after `prefix`. */
export async function realEngines(brokers: string[], node: string, prefix = 'bench'): Promise<FleetTarget> {
  const run = `${prefix}${process.pid}${Date.now().toString(36)}`;
  const admin = new EsClient({ node });
  await installEsTemplates(admin, { namespace: run });
  return {
    realEngines: true,
    settings: { brokers, partitions: 4, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, topics: { events: `${run}.events`, alerts: `${run}.alerts`, deadLetters: `${run}.dlq`, serverEvents: `${run}.server-events` } },
    group: `${run}-detectors`,
    namespace: run,
    esClient: () => new EsClient({ node }),
    documents: async (stream) => {
      const index = `logs-mcp.${stream}-${run}`;
      await admin.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
      return (await admin.count({ index, ignore_unavailable: true, allow_no_indices: true }).catch(() => ({ count: 0 }))).count;
    },
    // The engines are shared: the run's topics go with it. Its data streams stay: the integ-test-zip has no REST
    // handler to delete a data stream, and a data stream's write index cannot be deleted.
    close: async () => {
      await admin.close();
      const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
      await kafka.connect();
      await kafka.deleteTopics({ topics: [`${run}.events`, `${run}.alerts`, `${run}.dlq`, `${run}.server-events`] }).catch(() => undefined);
      await kafka.disconnect();
    },
  };
}

export interface GroupWorkers {
  stop(): Promise<void>;
  /**
   * Waits until the workers hold no event in their reorder buffers (a held event is run, and its alerts raised, once it
   * is older than the lateness and its partition idle: seconds of wall clock after the last record), then stops them,
   * which finishes the deliveries in hand. Every alert of the records read so far is in the store afterwards.
   */
  settle(): Promise<void>;
}

/** Two detector workers in the target's group (rule pack + every stateful detector), each with its own bulk writer. */
export async function startGroupWorkers(target: FleetTarget, dir: string): Promise<GroupWorkers> {
  const workers: { worker: GroupDetectWorker; bus: KafkaBus; store: EsStore }[] = [];
  mkdirSync(join(dir, 'state'), { recursive: true });
  const stop = async () => {
    for (const { worker, bus, store } of workers.splice(0)) {
      await worker.stop();
      await store.close();
      await bus.close();
    }
  };
  try {
    for (const name of ['worker-1', 'worker-2']) {
      const bus = new KafkaBus(target.settings, { role: 'worker', clientId: name });
      const store = new EsStore(target.esClient(), { namespace: target.namespace, textFieldsOf: indexedTextFields, flushIntervalMs: 100 });
      workers.push({ worker: new GroupDetectWorker({
        bus,
        store,
        group: target.group,
        openState: (topic, partition) => new EmbeddedStateStore(join(dir, 'state', `${topic}.${partition}.sqlite`)),
        createRuntime: (state, partitionBy) => loadDetection(state, { partitionBy }).runtime,
      }), bus, store });
      await workers.at(-1)?.worker.start();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    stop,
    settle: async () => {
      await waitFor(() => workers.every(({ worker }) => worker.held === 0), 50);
      await stop();
    },
  };
}

/** Polls `condition` every `pollMs` (a benchmark waits on the pipeline's own progress, not on a fixed time). */
export async function waitFor(condition: () => boolean | Promise<boolean>, pollMs = 20): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, pollMs));
}
