/** The Kafka bus over the wire-protocol test broker with the real kafkajs client. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOPICS, type ConsumedRecord, type PartitionBatch, type Subscription } from '../../pipeline/bus.js';
import type { KafkaSettings } from '../../pipeline/config.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import { KafkaTestBroker } from '../support/kafkaTestBroker.js';
import { until } from '../support/until.js';

let broker: KafkaTestBroker;
const closing: { close(): Promise<void> }[] = [];

beforeEach(async () => {
  broker = await KafkaTestBroker.start({ autoCreateTopics: false });
});
afterEach(async () => {
  for (const bus of closing.splice(0).reverse()) await bus.close();
  await broker.stop();
});

function settings(extra: Partial<KafkaSettings> = {}): KafkaSettings {
  return { brokers: broker.brokers, partitions: 4, sessionTimeoutMs: 1500, heartbeatIntervalMs: 200, lingerMs: 2, ...extra };
}

function bus(role: 'collector' | 'worker', extra: Partial<KafkaSettings> = {}, clientId?: string): KafkaBus {
  const created = new KafkaBus(settings(extra), { role, ...(clientId ? { clientId } : {}) });
  closing.push(created);
  return created;
}

/** Subscribes and records every handled record by topic; `fail` decides whether a batch throws. */
async function collect(on: KafkaBus, topics: string[], handled: (ConsumedRecord & { topic: string; partition: number })[], fail?: (batch: PartitionBatch) => boolean): Promise<Subscription> {
  return on.subscribe('readers', topics, async (batch) => {
    if (fail?.(batch)) throw new Error('sink unavailable');
    for (const record of batch.records) handled.push({ ...record, topic: batch.topic, partition: batch.partition });
  });
}

/** Whether group `readers` has committed every record of `topic` (the cluster's name): nothing is in hand any more. */
function allCommitted(topic: string): boolean {
  return broker.highWatermarks(topic).every((end, partition) => end === 0 || broker.committedOffset('readers', topic, partition) === end);
}

/** (partition, offset) pairs handled more than once: a batch handled twice shows here, not only as a count. */
function handledTwice(handled: readonly (ConsumedRecord & { partition: number })[]): string[] {
  const seen = new Set<string>();
  return handled.map((r) => `${r.partition}/${r.offset}`).filter((key) => seen.has(key) || !seen.add(key));
}

// Mutant checked: the subscription handing each batch to the handler twice (kafkaSubscription.ts) fails the first
// three tests here on handledTwice, once the commits show that nothing is in hand any more.
describe('KafkaBus', () => {
  it('creates the configured topics and keeps each key in one partition, in publish order', async () => {
    const producer = bus('collector', { topics: { events: 'fleet.events' } });
    await Promise.all(
      Array.from({ length: 5 }, (_, round) => producer.publish(TOPICS.events, Array.from({ length: 40 }, (_, i) => ({ key: `session-${i % 8}`, value: JSON.stringify({ round, i }) })))),
    );
    expect([...broker.topics()].sort()).toEqual([['fleet.events', 4], [TOPICS.alerts, 4], [TOPICS.deadLetters, 4], [TOPICS.serverEvents, 4]].sort());
    expect(broker.highWatermarks('fleet.events').reduce((a, b) => a + b, 0)).toBe(200);

    const handled: (ConsumedRecord & { topic: string; partition: number })[] = [];
    await collect(bus('worker', { topics: { events: 'fleet.events' } }), [TOPICS.events], handled);
    await until(() => handled.length >= 200 && allCommitted('fleet.events'), '200 records, committed');
    expect(handledTwice(handled)).toEqual([]);
    expect(handled).toHaveLength(200);
    expect(new Set(handled.map((r) => r.topic))).toEqual(new Set([TOPICS.events]));
    for (let k = 0; k < 8; k++) {
      const ofKey = handled.filter((r) => r.key === `session-${k}`);
      expect(new Set(ofKey.map((r) => r.partition)).size).toBe(1);
      expect(ofKey.map((r) => JSON.parse(r.value) as { round: number })).toEqual([...ofKey.map((r) => JSON.parse(r.value) as { round: number })].sort((a, b) => a.round - b.round));
    }
  });

  it('commits a batch only after the handler succeeds, retrying a failed batch in place', async () => {
    const producer = bus('collector');
    await producer.publish(TOPICS.events, Array.from({ length: 30 }, (_, i) => ({ key: 'one-session', value: `v${i}` })));
    const partition = broker.highWatermarks(TOPICS.events).findIndex((n) => n > 0);
    let failures = 0;
    const handled: (ConsumedRecord & { topic: string; partition: number })[] = [];
    await collect(bus('worker'), [TOPICS.events], handled, () => failures++ < 2);
    await until(() => handled.length >= 30 && allCommitted(TOPICS.events), 'the batch after two failures, committed');
    expect(handledTwice(handled)).toEqual([]);
    expect(failures).toBe(3);
    expect(handled.map((r) => r.value)).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`));
    await until(() => broker.committedOffset('readers', TOPICS.events, partition) === 30, 'the commit');
  });

  it('shares partitions between two members and moves them when one leaves, each record handled once', async () => {
    const producer = bus('collector');
    const handledA: (ConsumedRecord & { topic: string; partition: number })[] = [];
    const handledB: (ConsumedRecord & { topic: string; partition: number })[] = [];
    const a = await collect(bus('worker', {}, 'member-a'), [TOPICS.events], handledA);
    await collect(bus('worker', {}, 'member-b'), [TOPICS.events], handledB);
    await until(() => broker.groupMembers('readers').length === 2, 'two members');
    await producer.publish(TOPICS.events, Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `first-${i}` })));
    await until(() => handledA.length + handledB.length === 100, 'the first hundred');
    expect(handledA.length * handledB.length).toBeGreaterThan(0);
    await a.stop();
    await until(() => broker.groupMembers('readers').length === 1, 'member a to leave');
    await producer.publish(TOPICS.events, Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `second-${i}` })));
    await until(() => handledB.filter((r) => r.value.startsWith('second')).length >= 100 && allCommitted(TOPICS.events), 'member b to take over, committed');
    expect(handledTwice(handledB)).toEqual([]);
    const values = [...handledA, ...handledB].map((r) => r.value);
    expect(values).toHaveLength(200);
    expect(new Set(values).size).toBe(200);
  });

  it('fails a collector publish fast while the broker is down, and works again after it restarts', async () => {
    const producer = bus('collector');
    await producer.publish(TOPICS.events, [{ key: 'k', value: 'before' }]);
    await broker.stop();
    await expect(producer.publish(TOPICS.events, [{ key: 'k', value: 'during' }])).rejects.toThrow();
    await broker.start();
    await producer.publish(TOPICS.events, [{ key: 'k', value: 'after' }]);
    const handled: (ConsumedRecord & { topic: string; partition: number })[] = [];
    await collect(bus('worker'), [TOPICS.events], handled);
    await until(() => handled.some((r) => r.value === 'after'), 'the record published after the restart');
    expect(handled.map((r) => r.value)).toContain('before');
  });

  it('reports lag per group over all partitions', async () => {
    const producer = bus('collector');
    await producer.publish(TOPICS.events, Array.from({ length: 25 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
    expect(await producer.lag('readers', TOPICS.events)).toBe(25);
    const handled: (ConsumedRecord & { topic: string; partition: number })[] = [];
    await collect(bus('worker'), [TOPICS.events], handled);
    await until(() => handled.length === 25, 'every record');
    await until(async () => (await producer.lag('readers', TOPICS.events)) === 0, 'lag 0');
  });

  it('has no single-offset consumer: Kafka is consumed through subscribe()', async () => {
    await expect(bus('worker').consumer('g', TOPICS.events)).rejects.toThrow(/subscribe\(\)/);
  });
});
