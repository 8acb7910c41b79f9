import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';

let dir: string;
let file: string;
const open: EmbeddedBus[] = [];

function openBus(): EmbeddedBus {
  const bus = new EmbeddedBus(file);
  open.push(bus);
  return bus;
}

function records(count: number, prefix = 'r'): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${i % 2}`, value: `${prefix}${i}` }));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tapwire-bus-'));
  file = join(dir, 'bus.sqlite');
});

afterEach(async () => {
  for (const bus of open.splice(0)) await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('EmbeddedBus', () => {
  it('delivers published records in order, with strictly increasing offsets, per topic', async () => {
    const bus = openBus();
    await bus.publish('a', records(5));
    await bus.publish('b', [{ key: 'x', value: 'other topic' }]);
    await bus.publish('a', records(2, 's'));
    const consumer = await bus.consumer('g', 'a');
    const first = await consumer.poll(4);
    const rest = await consumer.poll(100);
    const all = [...first, ...rest];
    expect(first).toHaveLength(4);
    expect(all.map((r) => r.value)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 's0', 's1']);
    expect(all.map((r) => r.key)).toEqual(['k0', 'k1', 'k0', 'k1', 'k0', 'k0', 'k1']);
    for (let i = 1; i < all.length; i += 1) expect(all[i]!.offset).toBeGreaterThan(all[i - 1]!.offset);
    expect(all.every((r) => Number.isInteger(r.timestamp) && r.timestamp > 0)).toBe(true);
    expect(await consumer.poll(100)).toEqual([]);
  });

  it('appendSync returns the last offset it assigned, and -1 for nothing', async () => {
    const bus = openBus();
    const last = bus.appendSync('t', records(3));
    expect(bus.appendSync('t', [])).toBe(-1);
    const consumer = await bus.consumer('g', 't');
    const polled = await consumer.poll(10);
    expect(polled).toHaveLength(3);
    expect(polled.at(-1)!.offset).toBe(last);
  });

  it('resumes a group after its committed offset, and re-delivers what was not committed after a restart', async () => {
    const writer = openBus();
    await writer.publish('t', records(6));
    const consumer = await writer.consumer('g', 't');
    const batch = await consumer.poll(4);
    await consumer.commit(batch[1]!.offset);
    await writer.close();
    open.splice(0);

    const reopened = openBus();
    const resumed = await reopened.consumer('g', 't');
    expect((await resumed.poll(10)).map((r) => r.value)).toEqual(['r2', 'r3', 'r4', 'r5']);
    const otherGroup = await reopened.consumer('h', 't');
    expect(await otherGroup.poll(10)).toHaveLength(6);
  });

  it('seeks to any offset, -1 meaning the start', async () => {
    const bus = openBus();
    await bus.publish('t', records(4));
    const consumer = await bus.consumer('g', 't');
    const all = await consumer.poll(10);
    consumer.seek(-1);
    expect((await consumer.poll(10)).map((r) => r.value)).toEqual(['r0', 'r1', 'r2', 'r3']);
    consumer.seek(all[2]!.offset);
    expect((await consumer.poll(10)).map((r) => r.value)).toEqual(['r3']);
  });

  it('reports lag per group as the records after its committed offset', async () => {
    const bus = openBus();
    await bus.publish('t', records(5));
    await bus.publish('other', records(3));
    expect(await bus.lag('g', 't')).toBe(5);
    const consumer = await bus.consumer('g', 't');
    const polled = await consumer.poll(3);
    expect(await bus.lag('g', 't')).toBe(5);
    await consumer.commit(polled.at(-1)!.offset);
    expect(await bus.lag('g', 't')).toBe(2);
    expect(await bus.lag('h', 't')).toBe(5);
  });

  it('prunes only records that every group of the topic has committed past', async () => {
    const bus = openBus();
    await bus.publish('t', records(10));
    await bus.publish('u', records(2));
    expect(bus.prune('t', Number.MAX_SAFE_INTEGER)).toBe(0);

    const fast = await bus.consumer('fast', 't');
    const slow = await bus.consumer('slow', 't');
    const all = await fast.poll(10);
    await fast.commit(all[7]!.offset);
    expect(bus.prune('t', Number.MAX_SAFE_INTEGER)).toBe(0);

    await slow.commit(all[3]!.offset);
    expect(bus.prune('t', all[2]!.offset)).toBe(2);
    expect(bus.prune('t', Number.MAX_SAFE_INTEGER)).toBe(2);
    const fresh = await bus.consumer('fresh', 't');
    expect(await fresh.poll(100)).toHaveLength(6);
    expect(await bus.lag('slow', 't')).toBe(6);
    expect(await bus.lag('late', 'u')).toBe(2);
  });

  it('never reuses the offsets of pruned records', async () => {
    const bus = openBus();
    await bus.publish('t', records(3));
    const consumer = await bus.consumer('g', 't');
    const polled = await consumer.poll(10);
    await consumer.commit(polled.at(-1)!.offset);
    expect(bus.prune('t', Number.MAX_SAFE_INTEGER)).toBe(3);
    const next = bus.appendSync('t', records(1));
    expect(next).toBeGreaterThan(polled.at(-1)!.offset);
    expect((await consumer.poll(10)).map((r) => r.offset)).toEqual([next]);
  });
});
