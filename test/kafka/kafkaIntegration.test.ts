/** The Kafka bus against a real cluster (scripts/services.sh, or the docker compose Kafka) named by KAFKA_BROKERS. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TOPICS } from '../../pipeline/bus.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import { realKafkaBrokers, SKIPPED_WITHOUT_ENGINES } from '../support/realEngines.js';
import { until } from './waitFor.js';

const brokers = realKafkaBrokers('kafkaIntegration.test.ts') ?? [];

describe('KafkaBus on a real cluster', () => {
  it.skipIf(brokers.length === 0)(`publishes keyed records and consumes them in a group, committing offsets (${brokers.length ? brokers.join(',') : SKIPPED_WITHOUT_ENGINES})`, async () => {
    const run = randomUUID().slice(0, 8);
    const settings = { brokers, partitions: 3, topics: { events: `tapwire-it-${run}.events`, alerts: `tapwire-it-${run}.alerts`, deadLetters: `tapwire-it-${run}.dlq`, serverEvents: `tapwire-it-${run}.server-events` } };
    const producer = new KafkaBus(settings, { role: 'collector' });
    const consumer = new KafkaBus(settings, { role: 'worker' });
    try {
      await producer.publish(TOPICS.events, Array.from({ length: 50 }, (_, i) => ({ key: `session-${i % 5}`, value: `v${i}` })));
      const seen: string[] = [];
      await consumer.subscribe(`tapwire-it-${run}`, [TOPICS.events], async (batch) => void seen.push(...batch.records.map((r) => r.value)));
      await until(() => seen.length >= 50, 'the records back', 60_000);
      expect(new Set(seen).size).toBe(50);
      await until(async () => (await producer.lag(`tapwire-it-${run}`, TOPICS.events)) === 0, 'committed offsets', 30_000);
    } finally {
      await consumer.close();
      await producer.close();
    }
  });
});
