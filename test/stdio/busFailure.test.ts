import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../../pipeline/home.js';
import { busEvents, FIXTURES, requireBuiltCli, runCli, tempHome } from '../support/tapwireCli.js';

const ECHO = join(FIXTURES, 'echoServer.mjs');
const requests = (n: number): string => Array.from({ length: n }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: i, method: 'ping' })}\n`).join('');

describe('the tap when the bus cannot be written', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('keeps traffic flowing and reports every lost event when the bus never opens', async () => {
    const broken = join(home, 'broken');
    mkdirSync(resolveHome(broken).bus, { recursive: true }); // a directory where the bus file should be
    const result = await runCli(['tap', '--home', broken, '--', process.execPath, ECHO], { input: requests(50) });
    expect(result.code).toBe(0);
    expect(result.stdout.toString().trim().split('\n')).toHaveLength(50);
    expect(result.stderr).toContain('events cannot be stored');
    // 50 requests, 50 responses, session.start and session.end.
    expect(result.stderr).toContain('102 of 102 events could not be stored');
  });

  it('drops past its queue bound while the bus is locked, then says so in a status event', async () => {
    const locked = join(home, 'locked');
    await runCli(['tap', '--home', locked, '--', process.execPath, '-e', '0']); // creates the bus
    const before = (await busEvents(locked)).length;
    const holder = new Database(resolveHome(locked).bus);
    holder.exec('BEGIN EXCLUSIVE');

    // The host keeps the session open across the outage: 400 calls while the bus is locked, 10 after.
    const tap = spawn(process.execPath, [requireBuiltCli(), 'tap', '--home', locked, '--', process.execPath, ECHO], { env: { ...process.env, TAPWIRE_TAP_MAX_QUEUED: '100' } });
    let stdout = '';
    let stderr = '';
    tap.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    tap.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const closed = new Promise<number | null>((resolve) => tap.on('close', resolve));
    tap.stdin.write(requests(400));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    holder.exec('COMMIT');
    holder.close();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    tap.stdin.end(requests(10));
    const code = await closed;

    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(410);
    expect(stderr).toContain('events cannot be stored');
    expect(stderr).toMatch(/tapwire tap: \d+ of 823 events could not be stored/);
    const events = (await busEvents(locked)).slice(before);
    const status = events.find((e) => e.event.action === 'tap.status')!;
    expect(status.mcp.tap?.dropped).toBeGreaterThan(0);
    const end = events.at(-1)!;
    expect(end.event.action).toBe('session.end');
    expect(end.mcp.tap?.dropped).toBe(status.mcp.tap?.dropped);
    // Every event is either stored or counted as dropped: 820 messages, start, status and end.
    expect(events.length + end.mcp.tap!.dropped!).toBe(823);
  });
});
