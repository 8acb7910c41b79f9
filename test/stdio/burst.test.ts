/**
 * A burst through the stdio tap (issue 10): one request makes a real server write 100,000 notifications as fast as
 * the pipe takes them. With the bus writable, the tap's observer records every message while the session is still
 * open (it used to drop most of them past a 10,000-event queue); beyond what the tap can hold (bus locked, a small
 * ring and spill), it sheds observation, never traffic, counts every byte it skipped in session.end and `status`, and
 * says so on stderr. No wall-clock assertion: each step waits on output or on the bus.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../../pipeline/home.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { untilChanged } from '../support/changeWait.js';
import { busEvents, FIXTURES, requireBuiltCli, lockBus, runCli, tempHome } from '../support/tapwireCli.js';

const BURST_SERVER = join(FIXTURES, 'burstServer.mjs');
const NOTIFICATIONS = 100_000;
/** What the server writes for the request: the notifications, then the response (id 1). */
const notification = (n: number): string => `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"burst ${n}"}}\n`;
const RESPONSE = `${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: `sent ${NOTIFICATIONS}` }] } })}\n`;
const REQUEST = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'burst', arguments: { count: NOTIFICATIONS } } })}\n`;
let serverBytes = Buffer.byteLength(RESPONSE);
for (let n = 0; n < NOTIFICATIONS; n++) serverBytes += Buffer.byteLength(notification(n));

interface TapRun {
  changed: EventEmitter;
  stdout(): string;
  stderr(): string;
  /** Ends the host's side of the session; resolves with the tap's exit code. */
  close(): Promise<number | null>;
}

function startTap(home: string, env: NodeJS.ProcessEnv = {}): TapRun {
  const tap = spawn(process.execPath, [requireBuiltCli(), 'tap', '--name', 'burst', '--home', home, '--', process.execPath, BURST_SERVER], { env: { ...process.env, ...env } });
  const changed = new EventEmitter();
  const out: Buffer[] = [];
  let err = '';
  tap.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    changed.emit('data');
  });
  tap.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    changed.emit('data');
  });
  const exited = new Promise<number | null>((resolve) => tap.on('close', resolve));
  tap.stdin.write(REQUEST);
  return {
    changed,
    stdout: () => Buffer.concat(out).toString(),
    stderr: () => err,
    close: () => {
      tap.stdin.end();
      return exited;
    },
  };
}

/** Records on the home's bus so far, read as any other reader would (0 until the observer has created the log). */
function busRecords(home: string): number {
  const file = resolveHome(home).bus;
  if (!existsSync(file)) return 0;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) FROM records').pluck().get() as number;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

async function tapStatus(home: string): Promise<{ session: string; events: number; dropped: number; unobserved_bytes: number }[]> {
  const result = await runCli(['status', '--json', '--home', home], { timeoutMs: 600_000 });
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout.toString()) as { taps: { session: string; events: number; dropped: number; unobserved_bytes: number }[] }).taps;
}

const notificationsOf = (events: McpEvent[]): McpEvent[] => events.filter((e) => e.event.action === 'notifications/message');

describe('a burst of 100,000 notifications through the tap', () => {
  const { home, remove } = tempHome('tapwire-burst-');
  afterAll(remove);

  it('records every message while the session is open, with the bus writable, and drops nothing', async () => {
    const live = join(home, 'live');
    const tap = startTap(live);
    await untilChanged(tap.changed, () => tap.stdout().endsWith(RESPONSE));
    // session.start, the request, every notification and the response, recorded by the tap before the host lets go.
    await untilChanged(tap.changed, () => busRecords(live) >= NOTIFICATIONS + 3);
    expect(await tap.close()).toBe(0);
    expect(tap.stdout()).toHaveLength(serverBytes);

    const events = await busEvents(live);
    expect(events).toHaveLength(NOTIFICATIONS + 4);
    expect(events.map((e) => e.event.sequence)).toEqual(events.map((_, i) => i));
    const data = notificationsOf(events).map((e) => (e.mcp.params as { data: string }).data);
    expect(data).toEqual(Array.from({ length: NOTIFICATIONS }, (_, n) => `burst ${n}`));
    expect(events.at(-1)!.event.action).toBe('session.end');
    expect(events.at(-1)!.mcp.tap).toMatchObject({ frames: NOTIFICATIONS + 2, events: NOTIFICATIONS + 3, dropped: 0, bytes_unobserved: 0, bytes: { server_to_client: serverBytes } });
    expect(await tapStatus(live)).toMatchObject([{ events: NOTIFICATIONS + 4, dropped: 0, unobserved_bytes: 0 }]);
  }, 600_000);

  it('beyond its capacity (bus locked, small ring and spill) sheds observation, counts every skipped byte and says so', async () => {
    const locked = join(home, 'locked');
    await runCli(['tap', '--home', locked, '--', process.execPath, '-e', '0']); // creates the bus
    const before = (await busEvents(locked)).length;
    const holder = lockBus(locked);
    const ringBytes = 65_536;
    const spillBytes = 1 << 20;
    const tap = startTap(locked, { TAPWIRE_TAP_RING_BYTES: String(ringBytes), TAPWIRE_TAP_SPILL_BYTES: String(spillBytes) });
    await untilChanged(tap.changed, () => tap.stdout().endsWith(RESPONSE) && tap.stderr().includes('forwarding without observing'));
    expect(await tap.close()).toBe(0);
    // Traffic is never what is shed.
    expect(tap.stdout()).toHaveLength(serverBytes);
    holder.release();

    const events = (await busEvents(locked)).slice(before);
    const end = events.at(-1)!;
    expect(end.event.action).toBe('session.end');
    const unobserved = end.mcp.tap!.bytes_unobserved!;
    // Everything the server wrote was forwarded; all but what the ring and the spill could hold went unobserved.
    expect(end.mcp.tap!.bytes).toMatchObject({ server_to_client: serverBytes });
    expect(unobserved).toBeGreaterThanOrEqual(serverBytes - ringBytes - spillBytes);
    expect(unobserved).toBeLessThan(serverBytes);
    // What was recorded is what was kept: no notification is counted both as recorded and as skipped.
    const recorded = notificationsOf(events).map((e) => Number((e.mcp.params as { data: string }).data.slice('burst '.length)));
    expect(recorded.length).toBeGreaterThan(0);
    const recordedBytes = recorded.reduce((sum, n) => sum + Buffer.byteLength(notification(n)), 0);
    expect(recordedBytes + unobserved).toBeLessThanOrEqual(serverBytes);
    expect(new Set(recorded).size).toBe(recorded.length);
    expect(tap.stderr()).toMatch(/\d+ bytes were forwarded without being observed or spilled/);
    const [status] = await tapStatus(locked).then((taps) => taps.filter((t) => t.session === end.mcp.session.id));
    expect(status).toMatchObject({ unobserved_bytes: unobserved });
  }, 600_000);
});
