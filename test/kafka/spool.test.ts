/** The collectors' disk spool and the spooling publisher, against the Kafka test broker taken down and back. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskSpool } from '../../collectors/spool/diskSpool.js';
import { SpoolingPublisher } from '../../collectors/spool/spoolingPublisher.js';
import { TOPICS, type ConsumedRecord } from '../../pipeline/bus.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import { KafkaTestBroker } from '../support/kafkaTestBroker.js';
import { until } from '../support/until.js';

const MiB = 1024 * 1024;
let dir: string;
let broker: KafkaTestBroker;
const buses: KafkaBus[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tapwire-spool-'));
  broker = await KafkaTestBroker.start();
});
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

function kafka(role: 'collector' | 'worker'): KafkaBus {
  const bus = new KafkaBus({ brokers: broker.brokers, partitions: 2, sessionTimeoutMs: 1500, heartbeatIntervalMs: 200, lingerMs: 1 }, { role });
  buses.push(bus);
  return bus;
}

function records(prefix: string, count: number, size = 16): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, i) => ({ key: 'host-session-1', value: `${prefix}${i}:`.padEnd(size, '.') }));
}

/** Everything on the events topic, in offset order per partition. */
async function readAll(expected: number): Promise<ConsumedRecord[]> {
  const handled: ConsumedRecord[] = [];
  await kafka('worker').subscribe(`audit-${Date.now()}`, [TOPICS.events], async (batch) => void handled.push(...batch.records));
  await until(() => handled.length >= expected, `${expected} records on the bus`);
  return handled;
}

describe('DiskSpool', () => {
  it('keeps records in order and drops the oldest past the byte limit, counting every drop durably', () => {
    const file = join(dir, 'spool.sqlite');
    const spool = new DiskSpool(file, MiB);
    expect(spool.append(TOPICS.events, records('a', 1000, 512))).toBe(0);
    const dropped = spool.append(TOPICS.events, records('b', 2000, 512));
    // Each record is 14 key bytes + 512 value bytes; 1 MiB holds 1993 of them.
    expect(dropped).toBe(3000 - Math.floor(MiB / 526));
    const depth = spool.depth();
    expect(depth.bytes).toBeLessThanOrEqual(MiB);
    expect(depth.records + depth.dropped).toBe(3000);
    const oldest = spool.claim('me', 1, 1000)!;
    expect(oldest[0]!.value.startsWith(`b${depth.dropped - 1000}:`)).toBe(true);
    spool.close();
    const reopened = new DiskSpool(file, MiB);
    expect(reopened.depth()).toEqual(depth);
    reopened.close();
  });

  it('lets one drainer at a time hold the lease, and hands it over when it expires', () => {
    const spool = new DiskSpool(join(dir, 'spool.sqlite'), MiB);
    spool.append(TOPICS.events, records('r', 3));
    expect(spool.claim('first', 10, 60_000)).toHaveLength(3);
    expect(spool.claim('second', 10, 60_000)).toBeUndefined();
    spool.release('first');
    expect(spool.claim('second', 10, -1)).toHaveLength(3);
    // 'second' took a lease that has already expired: anyone may take it over.
    expect(spool.claim('third', 10, 60_000)).toHaveLength(3);
    spool.remove(spool.claim('third', 2, 60_000)!.at(-1)!.seq);
    expect(spool.depth().records).toBe(1);
    spool.close();
  });
});

describe('SpoolingPublisher', () => {
  it('spools while the broker is down, never failing the caller, and drains in order once it is back', async () => {
    const bus = kafka('collector');
    const drained: number[] = [];
    let spoolingSince: Error | undefined;
    const publisher = new SpoolingPublisher((topic, r) => bus.publish(topic, r), new DiskSpool(join(dir, 'spool.sqlite'), 64 * MiB), {
      retryMinMs: 100,
      retryMaxMs: 400,
      onSpooling: (error) => (spoolingSince = error),
      onDrained: (count) => drained.push(count),
    });
    await publisher.publish(TOPICS.events, records('before', 10));
    await broker.stop();
    for (let round = 0; round < 5; round++) await publisher.publish(TOPICS.events, records(`down${round}-`, 20));
    expect(spoolingSince).toBeInstanceOf(Error);
    expect(publisher.stats()).toMatchObject({ direct: 10, spooled: 100, depth: 100 });
    await broker.start();
    await publisher.publish(TOPICS.events, records('after', 10));
    await until(() => publisher.stats().depth === 0 && drained.length > 0, 'the spool to drain');
    const stats = await publisher.close(1000);
    expect(stats).toMatchObject({ direct: 10, drained: 110, dropped: 0 });
    const values = (await readAll(120)).map((r) => r.value.split(':')[0]);
    // One key, one partition: the order of publication holds across the outage.
    expect(values).toEqual([...records('before', 10), ...[0, 1, 2, 3, 4].flatMap((round) => records(`down${round}-`, 20)), ...records('after', 10)].map((r) => r.value.split(':')[0]));
  });

  it('reports overflow drops and delivers the newest records that fit', async () => {
    const bus = kafka('collector');
    const drops: [number, number][] = [];
    await broker.stop();
    const publisher = new SpoolingPublisher((topic, r) => bus.publish(topic, r), new DiskSpool(join(dir, 'spool.sqlite'), MiB), { retryMinMs: 100, retryMaxMs: 200, onDropped: (dropped, total) => drops.push([dropped, total]) });
    for (let round = 0; round < 4; round++) await publisher.publish(TOPICS.events, records(`r${round}-`, 1000, 512));
    const total = drops.at(-1)![1];
    expect(total).toBe(drops.reduce((sum, [d]) => sum + d, 0));
    expect(publisher.stats().depth).toBe(4000 - total);
    await broker.start();
    await until(() => publisher.stats().depth === 0, 'the spool to drain');
    await publisher.close(1000);
    const delivered = await readAll(4000 - total);
    expect(delivered).toHaveLength(4000 - total);
    expect(delivered.at(-1)!.value.startsWith('r3-999:')).toBe(true);
  });

  it('leaves undelivered records on disk at close, for the next collector to drain', async () => {
    const file = join(dir, 'spool.sqlite');
    await broker.stop();
    const first = new SpoolingPublisher((topic, r) => kafka('collector').publish(topic, r), new DiskSpool(file, MiB), { retryMinMs: 100 });
    await first.publish(TOPICS.events, records('orphan', 25));
    expect((await first.close(300)).depth).toBe(25);
    await broker.start();
    const drained: number[] = [];
    const bus = kafka('collector');
    const second = new SpoolingPublisher((topic, r) => bus.publish(topic, r), new DiskSpool(file, MiB), { retryMinMs: 100, onDrained: (n) => drained.push(n) });
    await until(() => drained.length > 0, 'the next collector to drain the orphaned spool');
    expect(drained[0]).toBe(25);
    await second.close(1000);
    expect((await readAll(25)).map((r) => r.value.split(':')[0])).toEqual(records('orphan', 25).map((r) => r.value.split(':')[0]));
  });
});
