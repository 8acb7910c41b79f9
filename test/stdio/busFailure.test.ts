import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../../pipeline/home.js';
import { untilChanged } from '../support/changeWait.js';
import { busEvents, FIXTURES, requireBuiltCli, runCli, tempHome } from '../support/tapwireCli.js';

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
    const holder = new Database(resolveHome(locked).bus);
    holder.exec('BEGIN EXCLUSIVE');

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
    holder.exec('COMMIT');
    holder.close();
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
});
