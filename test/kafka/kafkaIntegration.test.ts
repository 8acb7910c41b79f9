/**
 * The Kafka bus against a real Kafka 4 broker (scripts/services.sh, or the docker compose Kafka) named by
 * KAFKA_BROKERS: what the wire-protocol double never checked. kafkajs 2.2.4 speaks only protocol versions Kafka 4
 * kept (KIP-896) for produce, fetch, groups and commits; a request over the broker's size limit is split and a record
 * over it dead-lettered; topics are created with explicit configs; SASL/PLAIN authenticates.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { TOPICS } from '../../pipeline/bus.js';
import type { KafkaSettings } from '../../pipeline/config.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import { waitForTopicLeaders } from '../../pipeline/kafka/topicLeaders.js';
import { realKafkaBrokers, SKIPPED_WITHOUT_ENGINES } from '../support/realEngines.js';
import { until } from '../support/until.js';

const brokers = realKafkaBrokers('kafkaIntegration.test.ts') ?? [];
const title = (what: string) => `${what} (${brokers.length ? brokers.join(',') : SKIPPED_WITHOUT_ENGINES})`;

/** Settings with topics of this run's own. */
function settingsOf(run: string, extra: Partial<KafkaSettings> = {}): KafkaSettings {
  return { brokers, partitions: 3, topics: { events: `tapwire-it-${run}.events`, alerts: `tapwire-it-${run}.alerts`, deadLetters: `tapwire-it-${run}.dlq`, serverEvents: `tapwire-it-${run}.server-events` }, ...extra };
}

/** Every record value of a topic, read by a group of its own. */
async function consumeAll(bus: KafkaBus, group: string, topic: string, count: number): Promise<string[]> {
  const seen: string[] = [];
  await bus.subscribe(group, [topic], async (batch) => void seen.push(...batch.records.map((r) => r.value)));
  await until(() => seen.length >= count, `${count} records of ${topic}`, 60_000);
  return seen;
}

describe.skipIf(brokers.length === 0)('KafkaBus on a real Kafka 4 broker', () => {
  it(title('publishes keyed records and consumes them in a group, committing offsets'), async () => {
    const run = randomUUID().slice(0, 8);
    const settings = settingsOf(run);
    const producer = new KafkaBus(settings, { role: 'collector' });
    const consumer = new KafkaBus(settings, { role: 'worker' });
    try {
      await producer.publish(TOPICS.events, Array.from({ length: 50 }, (_, i) => ({ key: `session-${i % 5}`, value: `v${i}` })));
      const seen = await consumeAll(consumer, `tapwire-it-${run}`, TOPICS.events, 50);
      expect(new Set(seen).size).toBe(50);
      await until(async () => (await producer.lag(`tapwire-it-${run}`, TOPICS.events)) === 0, 'committed offsets');
    } finally {
      await consumer.close();
      await producer.close();
    }
  });

  it(title('creates its topics with explicit configs: delete cleanup, 7 days retention, the configured partitions'), async () => {
    const run = randomUUID().slice(0, 8);
    const bus = new KafkaBus(settingsOf(run), { role: 'command' });
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await bus.ensureTopics();
      const name = `tapwire-it-${run}.events`;
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy', 'retention.ms'] }] });
      const entries = Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, { value: e.configValue, isDefault: e.isDefault }]));
      // Set on the topic itself (not inherited from the broker): what was asked for is what the cluster keeps.
      expect(entries['cleanup.policy']).toEqual({ value: 'delete', isDefault: false });
      expect(entries['retention.ms']).toEqual({ value: String(7 * 24 * 3600 * 1000), isDefault: false });
      const metadata = await admin.fetchTopicMetadata({ topics: [name] });
      expect(metadata.topics[0]!.partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
      await bus.close();
    }
  });

  it(title('warns when a topic asks for more in-sync replicas than it has (acks=all would always fail)'), async () => {
    const run = randomUUID().slice(0, 8);
    const settings = settingsOf(run);
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    // As an operator might leave it: one replica, two required in sync.
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic: settings.topics!.alerts!, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    await waitForTopicLeaders(admin, [settings.topics!.alerts!]);
    await admin.disconnect();
    const bus = new KafkaBus(settings, { role: 'command' });
    try {
      await bus.ensureTopics();
      expect(bus.warnings).toEqual([
        `Kafka topic ${settings.topics!.alerts} has min.insync.replicas=2 but 1 replica(s): every acks=all publish to it fails (NOT_ENOUGH_REPLICAS); raise kafka.replicationFactor or lower min.insync.replicas`,
      ]);
    } finally {
      await bus.close();
    }
  });

  it(title('splits a request the broker refuses as MESSAGE_TOO_LARGE, and dead-letters the one record it refuses alone'), async () => {
    const run = randomUUID().slice(0, 8);
    const settings = settingsOf(run);
    const limit = 20_000;
    // The topic's own limit, far under the bus's request cap, so the broker (not Tapwire) does the refusing.
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic: settings.topics!.events!, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: String(limit) }] }] });
    await waitForTopicLeaders(admin, [settings.topics!.events!]);
    await admin.disconnect();
    const producer = new KafkaBus(settings, { role: 'collector' });
    const consumer = new KafkaBus(settings, { role: 'worker' });
    try {
      // Random base64 does not compress below the limit: 30 × 3 kB together are refused, each alone fits.
      const small = Array.from({ length: 30 }, (_, i) => ({ key: 's', value: `${i}:${randomBytes(2250).toString('base64')}` }));
      const huge = { key: 'h', value: `huge:${randomBytes(60_000).toString('base64')}` };
      await producer.publish(TOPICS.events, [...small.slice(0, 15), huge, ...small.slice(15)]);
      expect(producer.tooLarge).toBe(1);
      const delivered = await consumeAll(consumer, `tapwire-it-${run}`, TOPICS.events, 30);
      expect(delivered).toEqual(small.map((r) => r.value));
      const letters = (await consumeAll(consumer, `tapwire-it-${run}-dlq`, TOPICS.deadLetters, 1)).map((v) => JSON.parse(v) as Record<string, unknown>);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ topic: settings.topics!.events, key: 'h', bytes: huge.value.length + 1 });
      expect(String(letters[0]!.error)).toMatch(/^MESSAGE_TOO_LARGE/);
      expect(String(letters[0]!.value).length).toBeLessThanOrEqual(1024);
    } finally {
      await consumer.close();
      await producer.close();
    }
  });

  it(title('refuses a session timeout outside the broker bounds, naming them, instead of retrying a join forever'), async () => {
    const run = randomUUID().slice(0, 8);
    // 1.5 s: what the test double accepted; a default broker's group.min.session.timeout.ms is 6 s.
    const bus = new KafkaBus(settingsOf(run, { sessionTimeoutMs: 1500, heartbeatIntervalMs: 200 }), { role: 'worker' });
    try {
      const subscription = await bus.subscribe(`tapwire-it-${run}`, [TOPICS.events], async () => undefined);
      await expect(subscription.done).rejects.toThrow(/session timeout is not within the range allowed by the broker \(as configured by group\.min\.session\.timeout\.ms and group\.max\.session\.timeout\.ms\)/);
    } finally {
      await bus.close();
    }
  });

  it.skipIf(!process.env.KAFKA_SASL_BROKERS)(title('authenticates with SASL/PLAIN, and a wrong password is refused'), async () => {
    const run = randomUUID().slice(0, 8);
    const password = readFileSync(process.env.KAFKA_SASL_PASSWORD_FILE!, 'utf8').trim();
    const sasl = (secret: string): Partial<KafkaSettings> => ({ brokers: process.env.KAFKA_SASL_BROKERS!.split(','), sasl: { mechanism: 'plain', username: process.env.KAFKA_SASL_USERNAME ?? 'tapwire', password: secret } });
    const producer = new KafkaBus(settingsOf(run, sasl(password)), { role: 'command' });
    const consumer = new KafkaBus(settingsOf(run, sasl(password)), { role: 'worker' });
    const intruder = new KafkaBus(settingsOf(run, sasl(`${password}x`)), { role: 'command' });
    try {
      await producer.publish(TOPICS.events, [{ key: 'k', value: 'over sasl' }]);
      expect(await consumeAll(consumer, `tapwire-it-${run}`, TOPICS.events, 1)).toEqual(['over sasl']);
      await expect(intruder.publish(TOPICS.events, [{ key: 'k', value: 'x' }])).rejects.toThrow(/SASL PLAIN authentication failed|Authentication failed/i);
    } finally {
      await Promise.all([producer.close(), consumer.close(), intruder.close()]);
    }
  });
});
