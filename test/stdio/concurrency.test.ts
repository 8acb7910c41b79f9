import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { EmbeddedStore } from '../../pipeline/embedded/embeddedStore.js';
import { resolveHome } from '../../pipeline/home.js';
import { syncStoreFromBus } from '../../service/storeSync.js';
import { busEvents, FIXTURES, runCli, tempHome } from '../support/tapwireCli.js';

const TAPS = 4;
const CALLS = 1000; // a request and a response each: 2,000 messages per tap

describe('concurrent taps into one embedded home', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('publishes every event of 4 parallel taps exactly once, in per-session order, every response correlated', async () => {
    const requests = Array.from({ length: CALLS }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { n: i } } })}\n`).join('');
    const runs = await Promise.all(
      Array.from({ length: TAPS }, (_, t) => runCli(['tap', '--name', `echo-${t}`, '--home', home, '--', process.execPath, join(FIXTURES, 'echoServer.mjs')], { input: requests, timeoutMs: 120_000 })),
    );
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stdout.toString().split('\n').filter(Boolean)).toHaveLength(CALLS);
    }

    // Exactly once on the bus itself, not only in the store: a tap that hands off at exit stops its observer first
    // (collectors/stdio/chunkRing.ts, the stop handshake), so the observer and the hand-off never both publish a frame.
    const events = await busEvents(home);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(events.length);
    const bySession = new Map<string, typeof events>();
    for (const event of events) {
      const list = bySession.get(event.mcp.session.id) ?? [];
      list.push(event);
      bySession.set(event.mcp.session.id, list);
    }
    expect(bySession.size).toBe(TAPS);
    for (const sessionEvents of bySession.values()) {
      expect(sessionEvents.filter((e) => e.mcp.message)).toHaveLength(2 * CALLS);
      // Bus order within a session is the tap's order.
      expect(sessionEvents.map((e) => e.event.sequence)).toEqual(sessionEvents.map((_, i) => i));
      // Every response names the request it answers, including those recorded through a hand-off: the observer's
      // correlation state travels with it.
      const responses = sessionEvents.filter((e) => e.mcp.message?.kind === 'response');
      expect(responses).toHaveLength(CALLS);
      expect(responses.filter((e) => !e.mcp.message?.correlated || e.gen_ai?.tool?.name !== 'echo')).toEqual([]);
      expect(sessionEvents.filter((e) => e.event.action === 'session.end')).toHaveLength(1);
    }

    const paths = resolveHome(home);
    const bus = new EmbeddedBus(paths.bus);
    const store = new EmbeddedStore(paths.store);
    try {
      const first = await syncStoreFromBus(bus, store);
      expect(first).toMatchObject({ inserted: events.length, duplicates: 0 });
      const again = await syncStoreFromBus(bus, store);
      expect(again.read).toBe(0);
      for (const sessionId of bySession.keys()) {
        const stored = await store.events({ session: sessionId, order: 'asc', limit: 100_000 });
        expect(stored.map((e) => e.event.sequence)).toEqual(bySession.get(sessionId)!.map((e) => e.event.sequence));
      }
    } finally {
      await store.close();
      await bus.close();
    }
  });
});
