import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOPICS, type OutgoingRecord } from '../../pipeline/bus.js';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { EmbeddedStore } from '../../pipeline/embedded/embeddedStore.js';
import { syncStoreFromBus } from '../../service/storeSync.js';
import type { DeadLetter } from '../../pipeline/recordCodec.js';
import { makeEvent, makeSessionEvents } from '../support/eventFixtures.js';
import { compiledModule } from './compiledModule.js';

const runner = fileURLToPath(new URL('./storeSyncRunner.mjs', import.meta.url));
const SOURCE = `bus:${TOPICS.events}`;

let dir: string;
let bus: EmbeddedBus;
const stores: EmbeddedStore[] = [];

function openStore(name = 'store.sqlite'): EmbeddedStore {
  const store = new EmbeddedStore(join(dir, name));
  stores.push(store);
  return store;
}

/** Publishes `count` events spread over three sessions (keyed by session), in publishes of 1000. */
async function publishEvents(count: number, firstSequence = 0): Promise<void> {
  const perSession = Math.ceil(count / 3);
  const events = ['a', 'b', 'c'].flatMap((session) => makeSessionEvents(perSession, { session, sequence: firstSequence }));
  const records: OutgoingRecord[] = events.slice(0, count).map((e) => ({ key: e.mcp.session.id, value: JSON.stringify(e) }));
  for (let i = 0; i < records.length; i += 1000) await bus.publish(TOPICS.events, records.slice(i, i + 1000));
}

async function lastOffset(): Promise<number> {
  const consumer = await bus.consumer('test-audit', TOPICS.events);
  const all = await consumer.poll(Number.MAX_SAFE_INTEGER);
  return all.at(-1)!.offset;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tapwire-sync-'));
  bus = new EmbeddedBus(join(dir, 'bus.sqlite'));
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('syncStoreFromBus', () => {
  it('drains the events topic into the store in batches, then resumes with only what is new', async () => {
    const store = openStore();
    await publishEvents(5000);
    expect(await syncStoreFromBus(bus, store, { batchSize: 700 })).toEqual({ read: 5000, inserted: 5000, duplicates: 0, deadLettered: 0 });
    expect(await store.events({})).toHaveLength(5000);
    expect(await store.position(SOURCE)).toBe(await lastOffset());
    expect(await bus.lag('store-sync', TOPICS.events)).toBe(0);

    await publishEvents(600, 5000);
    expect(await syncStoreFromBus(bus, store, { batchSize: 700 })).toEqual({ read: 600, inserted: 600, duplicates: 0, deadLettered: 0 });
    expect(await syncStoreFromBus(bus, store)).toEqual({ read: 0, inserted: 0, duplicates: 0, deadLettered: 0 });
    const session = await store.events({ session: 'b' });
    expect(session.map((e) => e.event.sequence)).toEqual([
      ...Array.from({ length: 1667 }, (_, i) => i),
      ...Array.from({ length: 200 }, (_, i) => 5000 + i),
    ]);
  });

  it("resumes from the store's position, not the bus group's commit", async () => {
    await publishEvents(900);
    const store = openStore();
    await syncStoreFromBus(bus, store);
    // As after a crash between the store transaction and the bus commit: the group is behind the store.
    const group = await bus.consumer('store-sync', TOPICS.events);
    await group.commit(-1);
    expect(await syncStoreFromBus(bus, store)).toEqual({ read: 0, inserted: 0, duplicates: 0, deadLettered: 0 });
    // A new, empty store is filled completely even though the group has committed everything.
    const fresh = openStore('fresh.sqlite');
    expect(await syncStoreFromBus(bus, fresh)).toEqual({ read: 900, inserted: 900, duplicates: 0, deadLettered: 0 });
  });

  it('neither loses nor repeats an event when the sync process is killed mid-way and restarted', async () => {
    const total = 30_000;
    await publishEvents(total);
    const store = openStore();
    const child = spawn(
      process.execPath,
      [
        runner,
        compiledModule('pipeline/embedded/embeddedBus.ts'),
        compiledModule('pipeline/embedded/embeddedStore.ts'),
        compiledModule('service/storeSync.ts'),
        bus.file,
        store.file,
        '500',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let running = true;
    void exited.then(() => (running = false));
    for (let checks = 0; running && (await store.position(SOURCE)) < 0 && checks < 30_000; checks += 1) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    child.kill('SIGKILL');
    const code = await exited;
    expect(code, `the sync child ended by itself before it was killed: ${stderr}`).toBeNull();

    const position = await store.position(SOURCE);
    const stored = (await store.events({})).length;
    expect(position).toBeGreaterThanOrEqual(0);
    expect(position).toBeLessThan(await lastOffset());
    const resumed = await syncStoreFromBus(bus, store, { batchSize: 500 });
    expect(resumed).toEqual({ read: total - stored, inserted: total - stored, duplicates: 0, deadLettered: 0 });
    expect(await store.events({})).toHaveLength(total);
  });

  it('sends records that are not JSON or not valid events to the dead-letter topic and carries on', async () => {
    const store = openStore();
    const valid = makeSessionEvents(3).map((e) => JSON.stringify(e));
    const { mcp: _dropped, ...withoutMcp } = makeEvent({ session: 'x' });
    await bus.publish(TOPICS.events, [
      { key: 'k', value: valid[0]! },
      { key: 'k', value: '{"@timestamp": "2026-01-01T00:00:00Z", ' },
      { key: 'k', value: valid[1]! },
      { key: 'k', value: JSON.stringify(withoutMcp) },
      { key: 'k', value: valid[2]! },
    ]);
    expect(await syncStoreFromBus(bus, store, { batchSize: 2 })).toEqual({ read: 5, inserted: 3, duplicates: 0, deadLettered: 2 });
    expect(await store.events({})).toHaveLength(3);

    const published = await (await bus.consumer('test-audit', TOPICS.events)).poll(10);
    const letters = (await (await bus.consumer('test-audit', TOPICS.deadLetters)).poll(10)).map(
      (r) => JSON.parse(r.value) as DeadLetter,
    );
    expect(letters.map((l) => [l.topic, l.offset, l.key, l.value])).toEqual([
      [TOPICS.events, published[1]!.offset, 'k', published[1]!.value],
      [TOPICS.events, published[3]!.offset, 'k', published[3]!.value],
    ]);
    expect(letters[0]!.error).toMatch(/^not JSON: /);
    expect(letters[1]!.error).toBe("not a valid MCP event: /: must have required property 'mcp'");
    expect(await syncStoreFromBus(bus, store)).toEqual({ read: 0, inserted: 0, duplicates: 0, deadLettered: 0 });
  });
});
