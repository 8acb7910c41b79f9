/**
 * A bus file deleted, replaced or truncated under a home: the store had read up to an offset of the old log, and the
 * new log starts again from 1. The next command must notice, read the new log from its start, say so on stderr and
 * record it as an event, instead of skipping every new event until the new log passes the old position.
 */
import { rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../../pipeline/home.js';
import { FIXTURES, runCli, tempHome } from '../support/tapwireCli.js';

const ECHO = join(FIXTURES, 'echoServer.mjs');
const calls = (n: number, from: number): string => Array.from({ length: n }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: from + i, method: 'ping' })}\n`).join('');

async function tapAndList(home: string, n: number, from: number): Promise<{ stderr: string; events: { event: { action: string }; message?: string; jsonrpc?: { request?: { id: string } } }[] }> {
  const tap = await runCli(['tap', '--home', home, '--', process.execPath, ECHO], { input: calls(n, from) });
  expect(tap.code, tap.stderr).toBe(0);
  const out = await runCli(['events', '--json', '--limit', '100000', '--home', home]);
  expect(out.code, out.stderr).toBe(0);
  return { stderr: out.stderr, events: out.stdout.toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('a bus file that disappears under the store', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it.each([
    ['deleted', (bus: string) => rmSync(bus)],
    ['truncated', (bus: string) => truncateSync(bus, 0)],
  ])('is noticed when %s: the new events are stored, with a warning and a recorded event', async (how, damage) => {
    const h = join(home, how);
    // 50 calls (100 messages and the session's start and end) put the store's position at 102.
    const first = await tapAndList(h, 50, 0);
    expect(first.events.filter((e) => e.event.action === 'ping')).toHaveLength(100);
    const bus = resolveHome(h).bus;
    damage(bus);
    rmSync(`${bus}-wal`, { force: true });
    rmSync(`${bus}-shm`, { force: true });

    // 5 calls in the new log: offsets 1…12, all below the old position.
    const second = await tapAndList(h, 5, 1000);
    expect(second.stderr).toContain('was deleted, replaced or truncated');
    const ids = second.events.filter((e) => e.event.action === 'ping').map((e) => Number(e.jsonrpc?.request?.id));
    expect(ids.filter((id) => id >= 1000)).toHaveLength(10);
    expect(second.events.filter((e) => e.event.action === 'tap.status' && e.message?.includes('deleted, replaced or truncated'))).toHaveLength(1);
  });
});
