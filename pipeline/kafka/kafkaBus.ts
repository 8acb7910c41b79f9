/**
 * The Kafka Bus (kafkajs). Producing: an idempotent producer (acks=all, so a retried request is never written twice),
 * gzip, and publishes gathered for `lingerMs` into one request; records keep their key, so the Java-compatible murmur2
 * partitioner puts every record of a host session in the same partition, in order. Consuming: consumer groups through
 * subscribe() (kafkaSubscription.ts), committing only after the handler made a batch durable.
 *
 * Tapwire's topic names (TOPICS) map to the configured ones; the topics are created on first use when allowed, with
 * explicit configs (delete cleanup, retention) rather than whatever the broker defaults to. Kafka offsets are per
 * partition, so the single-offset polling consumer() of the Bus contract does not apply here.
 *
 * Size: a request carries at most MAX_REQUEST_BYTES of keys and values, under a default broker's message.max.bytes.
 * When a broker still refuses a request as MESSAGE_TOO_LARGE (a lower limit), the request is split in halves and
 * resent; a single record it refuses goes to the dead-letter topic as a short letter (never the record itself, which
 * would be refused again), so it cannot block a collector's spool by being retried forever at its head.
 */
import kafkajs, { CompressionTypes, Kafka, Partitioners, type Admin, type Consumer, type Producer } from 'kafkajs';

// kafkajs is CommonJS, and Node's named-export detection does not find ConfigResourceTypes: read it off the default.
const { ConfigResourceTypes } = kafkajs;
import { hostname } from 'node:os';
import type { BatchHandler, Bus, BusConsumer, OutgoingRecord, SubscribeOptions, Subscription } from '../bus.js';
import type { BusDescription } from '../embedded/embeddedBus.js';
import { TOPICS } from '../bus.js';
import type { KafkaSettings } from '../config.js';
import type { Logger } from '../logger.js';
import { encodeDeadLetter } from '../recordCodec.js';
import { KAFKA_RETRY, kafkaClientConfig, type KafkaRole } from './kafkaClientConfig.js';
import { runKafkaSubscription, type TopicNames } from './kafkaSubscription.js';
import { LingerBatcher, recordBytes } from './lingerBatcher.js';
import { OpenOnFirstUse } from './openOnFirstUse.js';
import { waitForTopicLeaders } from './topicLeaders.js';

export interface KafkaBusOptions {
  role: KafkaRole;
  /** Names this process to the cluster (default `<clientId setting or "tapwire">-<role>-<host>-<pid>`). */
  clientId?: string;
  /** Where kafkajs's own warnings and errors go; without one they are silent (collectors report failures themselves). */
  logger?: Logger;
}

const DEFAULT_PARTITIONS = 6;
const DEFAULT_LINGER_MS = 5;
const MAX_RECORDS_PER_REQUEST = 5000;
const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
/** Keys and values per produce request: a default broker accepts 1,048,588 bytes per record batch. */
export const MAX_REQUEST_BYTES = 900_000;
/** How long the created topics keep records (7 days, Kafka's own default, but stated so it is not left to a broker). */
const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** The part of a refused record's value a dead letter keeps, to identify it. */
const DEAD_LETTER_VALUE_BYTES = 1024;
const DEFAULT_HEARTBEAT_MS = 3000;

/** The Bus over a Kafka cluster. */
export class KafkaBus implements Bus {
  private readonly kafka: Kafka;
  private readonly names: TopicNames;
  private readonly batcher: LingerBatcher;
  private readonly producer: OpenOnFirstUse<Producer>;
  private readonly admin: OpenOnFirstUse<Admin>;
  private readonly topicsReady: OpenOnFirstUse<void>;
  private readonly subscriptions = new Set<Subscription>();
  private readonly clientId: string;
  /** Records the broker refused as too large, sent to the dead-letter topic instead. */
  tooLarge = 0;
  /** Configuration problems of the cluster found at first use (also logged when a logger is given). */
  readonly warnings: string[] = [];

  /** Connects lazily: nothing touches the network before the first publish, subscribe or lag. */
  constructor(
    private readonly settings: KafkaSettings,
    private readonly options: KafkaBusOptions,
  ) {
    this.clientId = options.clientId ?? `${settings.clientId ?? 'tapwire'}-${options.role}-${hostname()}-${process.pid}`;
    this.kafka = new Kafka(kafkaClientConfig(settings, options.role, this.clientId, options.logger));
    const configured: Record<string, string> = {
      [TOPICS.events]: settings.topics?.events ?? TOPICS.events,
      [TOPICS.alerts]: settings.topics?.alerts ?? TOPICS.alerts,
      [TOPICS.deadLetters]: settings.topics?.deadLetters ?? TOPICS.deadLetters,
      [TOPICS.serverEvents]: settings.topics?.serverEvents ?? TOPICS.serverEvents,
    };
    const reverse = new Map(Object.entries(configured).map(([logical, name]) => [name, logical]));
    this.names = { toCluster: (topic) => configured[topic] ?? topic, fromCluster: (name) => reverse.get(name) ?? name };
    this.batcher = new LingerBatcher((byTopic) => this.send(byTopic), settings.lingerMs ?? DEFAULT_LINGER_MS, MAX_RECORDS_PER_REQUEST, MAX_REQUEST_BYTES);
    this.admin = new OpenOnFirstUse(async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    });
    this.producer = new OpenOnFirstUse(async () => {
      // Idempotence needs one request in flight per connection to keep the order it promises. Retries are bounded
      // (kafkajs's idempotent default is forever): a publish that gives up is retried by its caller or spooled.
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: KAFKA_RETRY[options.role],
      });
      await producer.connect();
      return producer;
    });
    this.topicsReady = new OpenOnFirstUse(() => this.createMissingTopics());
  }

  /** The cluster's name for a Tapwire topic. */
  topicName(topic: string): string {
    return this.names.toCluster(topic);
  }

  /** Appends records; resolves once every in-sync replica has them (acks=all). */
  async publish(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    await this.batcher.add(topic, records);
  }

  /** Not available on Kafka: offsets are per partition; consume through subscribe(). */
  async consumer(group: string, topic: string): Promise<BusConsumer> {
    throw new Error(`the Kafka bus has no single-offset consumer (group ${group}, topic ${topic}): Kafka workers consume through subscribe()`);
  }

  /** Joins `group` on `topics`; see kafkaSubscription.ts for the commit rules. */
  async subscribe(group: string, topics: readonly string[], handler: BatchHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    await this.ensureTopics();
    const sessionTimeout = this.settings.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    const heartbeatIntervalMs = this.settings.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
    const consumer: Consumer = this.kafka.consumer({
      groupId: group,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout, 60_000),
      heartbeatInterval: heartbeatIntervalMs,
      // Short fetch waits keep heartbeats and shutdown prompt.
      maxWaitTimeInMs: Math.min(1000, heartbeatIntervalMs),
      allowAutoTopicCreation: false,
      retry: KAFKA_RETRY.worker,
    });
    await consumer.connect();
    const subscription = await runKafkaSubscription(consumer, topics, this.names, handler, { ...options, heartbeatIntervalMs });
    this.subscriptions.add(subscription);
    return {
      done: subscription.done,
      stop: async () => {
        this.subscriptions.delete(subscription);
        await subscription.stop();
      },
    };
  }

  /** Records of the topic after the group's committed offsets, summed over partitions. */
  async lag(group: string, topic: string): Promise<number> {
    return (await this.groupDepth(group, topic)).lag;
  }

  /**
   * What `tapwire status` shows of the cluster, summed over partitions: each Tapwire topic's retained records, and
   * for each group the records it has committed past (`committed`) and the records after them (`lag`). A topic not
   * created yet is left out.
   */
  async describe(groups: readonly string[]): Promise<BusDescription> {
    const description: BusDescription = { topics: [], groups: [] };
    for (const topic of Object.values(TOPICS)) {
      const depths = await Promise.all(groups.map((group) => this.groupDepth(group, topic).catch(() => undefined)));
      const first = depths[0];
      if (!first) continue;
      description.topics.push({ topic: this.names.toCluster(topic), records: first.records, lastOffset: first.lastOffset });
      depths.forEach((depth, i) => {
        if (depth?.committed !== undefined) description.groups.push({ group: groups[i] as string, topic: this.names.toCluster(topic), committed: depth.committed, lag: depth.lag });
      });
    }
    return description;
  }

  /** A group's position on a topic, summed over partitions; `committed` is undefined when it has committed nothing. */
  private async groupDepth(group: string, topic: string): Promise<{ records: number; lastOffset: number; committed: number | undefined; lag: number }> {
    const admin = await this.admin.get();
    const name = this.names.toCluster(topic);
    const [ends, offsets] = await Promise.all([admin.fetchTopicOffsets(name), admin.fetchOffsets({ groupId: group, topics: [name] })]);
    const committedBy = new Map((offsets[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]).filter(([, offset]) => (offset as number) >= 0) as [number, number][]);
    let records = 0;
    let lag = 0;
    let lastOffset = -1;
    let committed: number | undefined;
    for (const end of ends) {
      const low = Number(end.low);
      const high = Number(end.high);
      const from = committedBy.get(end.partition);
      records += high - low;
      lastOffset = Math.max(lastOffset, high - 1);
      lag += high - (from ?? low);
      if (from !== undefined) committed = (committed ?? 0) + from - low;
    }
    return { records, lastOffset, committed, lag };
  }

  /** Creates Tapwire's topics if the config allows it (createTopics, default true); existing topics are left alone. */
  async ensureTopics(): Promise<void> {
    if (this.settings.createTopics !== false) await this.topicsReady.get();
  }

  /** Sends what lingers, stops every subscription, and disconnects. */
  async close(): Promise<void> {
    await this.batcher.drain().catch(() => undefined);
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.subscriptions.clear();
    await Promise.all([this.producer.take()?.then((p) => p.disconnect()).catch(() => undefined), this.admin.take()?.then((a) => a.disconnect()).catch(() => undefined)]);
  }

  private async send(byTopic: Map<string, OutgoingRecord[]>): Promise<void> {
    await this.ensureTopics();
    const producer = await this.producer.get();
    try {
      await producer.sendBatch({
        acks: -1,
        compression: this.settings.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP,
        topicMessages: [...byTopic].map(([topic, records]) => ({ topic: this.names.toCluster(topic), messages: records.map((r) => ({ key: r.key, value: r.value })) })),
      });
    } catch (error) {
      if (!isMessageTooLarge(error)) throw error;
      await this.splitOrDeadLetter(byTopic, error as Error);
    }
  }

  /** Resends a refused request in halves; a single refused record becomes a dead letter. */
  private async splitOrDeadLetter(byTopic: Map<string, OutgoingRecord[]>, error: Error): Promise<void> {
    const entries = [...byTopic].flatMap(([topic, records]) => records.map((record) => [topic, record] as const));
    if (entries.length === 1) {
      const [topic, record] = entries[0]!;
      if (topic === TOPICS.deadLetters) throw error;
      const letter = encodeDeadLetter({
        refusedBy: 'kafka',
        topic: this.names.toCluster(topic),
        key: record.key ?? null,
        error: `MESSAGE_TOO_LARGE: the broker refused a record of ${recordBytes(record)} bytes (${error.message})`,
        bytes: recordBytes(record),
        value: Buffer.from(record.value).subarray(0, DEAD_LETTER_VALUE_BYTES).toString(),
      });
      this.tooLarge++;
      await this.send(new Map([[TOPICS.deadLetters, [letter]]]));
      return;
    }
    const half = Math.ceil(entries.length / 2);
    for (const part of [entries.slice(0, half), entries.slice(half)]) {
      const map = new Map<string, OutgoingRecord[]>();
      for (const [topic, record] of part) map.set(topic, [...(map.get(topic) ?? []), record]);
      await this.send(map);
    }
  }

  private async createMissingTopics(): Promise<void> {
    const admin = await this.admin.get();
    const existing = new Set(await admin.listTopics());
    const all = Object.values(TOPICS).map((t) => this.names.toCluster(t));
    const wanted = all.filter((name) => !existing.has(name));
    if (wanted.length > 0) await this.createTopics(admin, wanted);
    // Topics someone else created may carry their own min.insync.replicas (ours get the broker's default). The
    // check only advises: a metadata hiccup must not stop the bus.
    const preexisting = all.filter((name) => existing.has(name));
    if (preexisting.length > 0) await this.warnOnUnmetInSyncReplicas(admin, preexisting).catch(() => undefined);
  }

  /**
   * Warns when a topic asks for more in-sync replicas than it has: every acks=all publish to it then fails with
   * NOT_ENOUGH_REPLICAS, and a collector would only spool. Said once, at first use, naming the topic and the numbers.
   */
  private async warnOnUnmetInSyncReplicas(admin: Admin, topics: readonly string[]): Promise<void> {
    const [described, metadata] = await Promise.all([
      admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas'] })) }),
      admin.fetchTopicMetadata({ topics: [...topics] }),
    ]);
    for (const resource of described.resources) {
      const minInSync = Number(resource.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue ?? 1);
      const replicas = Math.min(...(metadata.topics.find((t) => t.name === resource.resourceName)?.partitions.map((p) => p.replicas.length) ?? [minInSync]));
      if (replicas < minInSync) {
        const message = `Kafka topic ${resource.resourceName} has min.insync.replicas=${minInSync} but ${replicas} replica(s): every acks=all publish to it fails (NOT_ENOUGH_REPLICAS); raise kafka.replicationFactor or lower min.insync.replicas`;
        this.warnings.push(message);
        this.options.logger?.warn({ topic: resource.resourceName, minInSync, replicas }, message);
      }
    }
  }

  private async createTopics(admin: Admin, wanted: readonly string[]): Promise<void> {
    await admin.createTopics({
      waitForLeaders: false,
      topics: wanted.map((topic) => ({
        topic,
        numPartitions: this.settings.partitions ?? DEFAULT_PARTITIONS,
        replicationFactor: this.settings.replicationFactor ?? 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'delete' },
          { name: 'retention.ms', value: String(DEFAULT_RETENTION_MS) },
        ],
      })),
    });
    await waitForTopicLeaders(admin, wanted);
  }
}

/** Whether kafkajs reports the broker's MESSAGE_TOO_LARGE (directly, or as the cause of its retries). */
function isMessageTooLarge(error: unknown): boolean {
  for (let e = error as { type?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.type === 'MESSAGE_TOO_LARGE') return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}
