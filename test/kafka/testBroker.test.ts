/** The Kafka wire-protocol test broker against the real kafkajs client: what the Kafka bus tests rely on. */
import { CompressionTypes, Kafka, logLevel, Partitioners, type Consumer, type EachBatchPayload } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartitionLog } from '../support/kafka/partitionLog.js';
import { KafkaTestBroker } from '../support/kafkaTestBroker.js';
import { until } from '../support/until.js';

let broker: KafkaTestBroker;
const clients: { disconnect(): Promise<void> }[] = [];

beforeEach(async () => {
  broker = await KafkaTestBroker.start();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect().catch(() => undefined)));
  await broker.stop();
});

function kafka(clientId: string): Kafka {
  return new Kafka({ clientId, brokers: broker.brokers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
}

async function producer(clientId = 'producer'): Promise<ReturnType<Kafka['producer']>> {
  const p = kafka(clientId).producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await p.connect();
  clients.push(p);
  return p;
}

/** A group member that records (partition, value) of what it handled and commits after each batch. */
async function member(clientId: string, topic: string, seen: { partition: number; value: string }[]): Promise<Consumer> {
  const consumer = kafka(clientId).consumer({ groupId: 'g', sessionTimeout: 1500, heartbeatInterval: 100, rebalanceTimeout: 3000, maxWaitTimeInMs: 100 });
  await consumer.connect();
  clients.push(consumer);
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isStale }: EachBatchPayload) => {
      if (isStale()) return;
      for (const m of batch.messages) seen.push({ partition: batch.partition, value: m.value!.toString() });
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }] }] });
      await heartbeat();
    },
  });
  return consumer;
}

describe('KafkaTestBroker with kafkajs', () => {
  it('creates topics, takes gzip record batches from an idempotent producer, and serves them back with offsets', async () => {
    const admin = kafka('admin').admin();
    await admin.connect();
    clients.push(admin);
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] })).toBe(false);
    const p = await producer();
    const messages = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 6}`, value: `v${i}` }));
    await p.send({ topic: 'orders', acks: -1, compression: CompressionTypes.GZIP, messages: messages.slice(0, 30) });
    await p.send({ topic: 'orders', acks: -1, messages: messages.slice(30) });
    expect(broker.highWatermarks('orders').reduce((a, b) => a + b, 0)).toBe(60);

    const seen: { partition: number; value: string }[] = [];
    await member('reader', 'orders', seen);
    await until(() => seen.length === 60, 'all 60 records');
    // Per key, the order of production is kept (a key always maps to one partition).
    for (let k = 0; k < 6; k++) {
      const values = seen.filter((s) => Number(s.value.slice(1)) % 6 === k);
      expect(new Set(values.map((v) => v.partition)).size).toBe(1);
      expect(values.map((v) => v.value)).toEqual(messages.filter((_, i) => i % 6 === k).map((m) => m.value));
    }
    const ends = await admin.fetchTopicOffsets('orders');
    const committed = await admin.fetchOffsets({ groupId: 'g', topics: ['orders'] });
    expect(committed[0]!.partitions.map((p) => p.offset).sort()).toEqual(ends.map((e) => e.high).sort());
  });

  it('rebalances a group of two: the partitions are shared, and the survivor takes all of them when one leaves', async () => {
    broker.createTopic('work', 4);
    const p = await producer();
    const seenA: { partition: number; value: string }[] = [];
    const seenB: { partition: number; value: string }[] = [];
    const a = await member('member-a', 'work', seenA);
    await until(() => broker.groupMembers('g').length === 1 && broker.groupGeneration('g') >= 1, 'the first member');
    await member('member-b', 'work', seenB);
    await until(() => broker.groupMembers('g').length === 2, 'the second member');
    await p.send({ topic: 'work', acks: -1, messages: Array.from({ length: 200 }, (_, i) => ({ key: `key-${i}`, value: `r${i}` })) });
    await until(() => seenA.length + seenB.length >= 200, 'records handled by the group');
    expect(seenA.length).toBeGreaterThan(0);
    expect(seenB.length).toBeGreaterThan(0);
    expect(new Set(seenA.map((s) => s.partition)).size + new Set(seenB.map((s) => s.partition)).size).toBe(4);

    await a.disconnect();
    await until(() => broker.groupMembers('g').length === 1, 'member a to leave');
    await p.send({ topic: 'work', acks: -1, messages: Array.from({ length: 100 }, (_, i) => ({ key: `key-${i}`, value: `s${i}` })) });
    await until(() => seenB.filter((s) => s.value.startsWith('s')).length === 100, 'member b to take every partition');
    const all = [...seenA, ...seenB].map((s) => s.value);
    expect(new Set(all).size).toBe(300);
  });

  it('expires a member that stops heartbeating (a killed process) and hands its partitions to the others', async () => {
    broker.createTopic('jobs', 2);
    const seenA: { partition: number; value: string }[] = [];
    const seenB: { partition: number; value: string }[] = [];
    await member('doomed', 'jobs', seenA);
    await member('survivor', 'jobs', seenB);
    await until(() => broker.groupMembers('g').length === 2 && seenA.length === 0, 'two members');
    broker.shun('doomed');
    await until(() => broker.groupMembers('g').length === 1, 'the session of the killed member to time out');
    const p = await producer();
    await p.send({ topic: 'jobs', acks: -1, messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `j${i}` })) });
    await until(() => seenB.length === 50, 'the survivor to read both partitions');
  });

  it('keeps topics and committed offsets across a restart on the same port; clients reconnect', async () => {
    broker.createTopic('durable', 2);
    const p = await producer();
    await p.send({ topic: 'durable', acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `a${i}` })) });
    const seen: { partition: number; value: string }[] = [];
    const consumer = await member('reader', 'durable', seen);
    await until(() => seen.length === 20, 'the first records');
    const port = broker.brokers[0];
    await broker.stop();
    await broker.start();
    expect(broker.brokers[0]).toBe(port);
    expect(broker.highWatermarks('durable').reduce((a, b) => a + b, 0)).toBe(20);
    await p.send({ topic: 'durable', acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `b${i}` })) });
    await until(() => seen.length >= 40, 'records after the restart');
    expect(seen.filter((s) => s.value.startsWith('a'))).toHaveLength(20);
    // The member commits after handling each batch, so its commit follows what it saw: disconnecting as soon as the
    // records are seen could stop the member before that commit (a saturated run had only the first 20 committed).
    await until(() => broker.committedOffset('g', 'durable', 0) + broker.committedOffset('g', 'durable', 1) === 40, 'the member to commit every record it read');
    await consumer.disconnect();
  });

  it('stores batches as produced (baseOffset rewritten) and refuses one whose CRC-32C does not match', async () => {
    broker.createTopic('crc', 1);
    const p = await producer('crc');
    await p.send({ topic: 'crc', acks: -1, messages: [{ key: 'k', value: 'first' }] });
    await p.send({ topic: 'crc', acks: -1, messages: [{ key: 'k', value: 'second' }] });
    const stored = broker.storedBatches('crc', 0);
    expect(stored.readBigInt64BE(0)).toBe(0n);
    const second = stored.subarray(12 + stored.readInt32BE(8));
    expect(second.readBigInt64BE(0)).toBe(1n);
    const copy = new PartitionLog();
    expect(copy.append(Buffer.from(second)).error).toBe(0);
    const corrupt = Buffer.from(second);
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect(copy.append(corrupt).error).toBe(2);
  });
});
