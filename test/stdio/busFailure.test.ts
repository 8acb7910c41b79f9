import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../../pipeline/home.js';
import { untilChanged } from '../support/changeWait.js';
import { busEvents, FIXTURES, requireBuiltCli, lockBus, runCli, tempHome } from '../support/tapwireCli.js';

const ECHO = join(FIXTURES, 'echoServer.mjs');
const requests = (n: number): string => Array.from({ length: n }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: i, method: 'ping' })}\n`).join('');

describe('the tap when the bus cannot be written', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('keeps traffic flowing when the bus never opens, and records every event once it can be opened', async () => {
    const broken = join(home, 'broken');
    mkdirSync(resolveHome(broken).bus, { recursive: true }); // a directory where the bus file should be
    const result = await runCli(['tap', '--home', broken, '--', process.execPath, ECHO], { input: requests(50) });
    expect(result.code).toBe(0);
    expect(result.stdout.toString().trim().split('\n')).toHaveLength(50);
    // The observer could store nothing, so the tap handed the whole session off to the home.
    expect(readdirSync(join(broken, 'handoff')).filter((f) => f.endsWith('.handoff'))).toHaveLength(1);

    rmSync(resolveHome(broken).bus, { recursive: true });
    const events = await busEvents(broken);
    // 50 requests, 50 responses, session.start and session.end: nothing dropped.
    expect(events.map((e) => e.event.action)).toEqual(['session.start', ...Array.from({ length: 50 }, () => ['ping', 'ping']).flat(), 'session.end']);
    expect(events.at(-1)!.mcp.tap).toMatchObject({ dropped: 0, bytes_unobserved: 0, frames: 100 });
    expect(readdirSync(join(broken, 'handoff'))).toEqual([]);
  });

  it('holds frames while the bus is locked and records them all once it is free, then says so in a status event', async () => {
    const locked = join(home, 'locked');
    await runCli(['tap', '--home', locked, '--', process.execPath, '-e', '0']); // creates the bus
    const before = (await busEvents(locked)).length;
    const holder = lockBus(locked);

    // The host keeps the session open across the outage: 400 calls while the bus is locked, 10 after. A queue
    // bound of 100 events once dropped most of them; the observer now leaves frames in the ring meanwhile.
    const tap = spawn(process.execPath, [requireBuiltCli(), 'tap', '--home', locked, '--', process.execPath, ECHO], { env: { ...process.env, TAPWIRE_TAP_MAX_QUEUED: '100' } });
    let stdout = '';
    let stderr = '';
    const changed = new EventEmitter();
    tap.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      changed.emit('data');
    });
    tap.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      changed.emit('data');
    });
    const closed = new Promise<number | null>((resolve) => tap.on('close', resolve));
    tap.stdin.write(requests(400));
    // Unlock only once the tap has met the lock and every answer has come back through it.
    await untilChanged(changed, () => stderr.includes('events cannot be stored') && stdout.split('\n').length > 400);
    holder.release();
    await untilChanged(changed, async () => stderr.includes('writable again') || (await busEvents(locked)).some((e) => e.event.action === 'tap.status'));
    tap.stdin.end(requests(10));
    const code = await closed;

    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(410);
    const events = (await busEvents(locked)).slice(before);
    const status = events.find((e) => e.event.action === 'tap.status')!;
    expect(status.mcp.tap?.dropped).toBe(0);
    const end = events.at(-1)!;
    expect(end.event.action).toBe('session.end');
    expect(end.mcp.tap?.dropped).toBe(0);
    // 820 messages, start, status and end, every one recorded once.
    expect(events).toHaveLength(823);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(823);
  });

  // The observer is stopped mid-session with a normalized request in memory and its response still in the ring: the
  // hand-off must continue from its state, so the response is correlated and nothing is recorded twice. Without the
  // stop handshake's state (the hand-off normalized from scratch) the second half's responses were uncorrelated.
  it('hands off mid-session with the correlation state of the observer: every response correlated, every event once', async () => {
    const paused = join(home, 'paused');
    const calls = (from: number, to: number): string =>
      Array.from({ length: to - from }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: from + i, method: 'tools/call', params: { name: 'echo', arguments: { n: from + i } } })}\n`).join('');
    // One event in memory is enough for the observer to stop reading while the bus refuses it.
    const tap = spawn(process.execPath, [requireBuiltCli(), 'tap', '--name', 'paused', '--home', paused, '--', process.execPath, ECHO], { env: { ...process.env, TAPWIRE_TAP_MAX_QUEUED: '1' } });
    let stdout = '';
    const changed = new EventEmitter();
    tap.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      changed.emit('data');
    });
    tap.stderr.resume();
    const closed = new Promise<number | null>((resolve) => tap.on('close', resolve));
    tap.stdin.write(calls(0, 20));
    // The first half is answered and on the bus (start, 20 requests, 20 responses) before the bus is locked.
    await untilChanged(changed, async () => stdout.split('\n').length > 20 && existsSync(resolveHome(paused).bus) && (await busEvents(paused)).length === 41);
    const holder = lockBus(paused);
    tap.stdin.end(calls(20, 40));
    const code = await closed;
    holder.release();

    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(40);
    const events = await busEvents(paused);
    expect(events.map((e) => e.event.sequence)).toEqual(events.map((_, i) => i));
    expect(events.map((e) => e.event.action)).toEqual(['session.start', ...Array.from({ length: 80 }, () => 'tools/call'), 'session.end']);
    const responses = events.filter((e) => e.mcp.message?.kind === 'response');
    expect(responses.map((e) => [e.jsonrpc?.request?.id, e.mcp.message?.correlated, e.gen_ai?.tool?.name])).toEqual(Array.from({ length: 40 }, (_, i) => [String(i), true, 'echo']));
    const end = events.at(-1)!;
    expect(String(end.mcp.tap?.reason)).toMatch(/^handed off: the observer had not finished/);
    expect(end.mcp.tap).toMatchObject({ frames: 80, events: 81, dropped: 0, bytes_unobserved: 0 });
    expect(readdirSync(join(paused, 'handoff'))).toEqual([]);
  });
});
