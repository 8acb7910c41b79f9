/**
 * A tap whose home is on a full filesystem: a real one (a small tmpfs mounted for the test, which needs root; the
 * test says so and skips where it cannot mount). While the disk is full, traffic flows and nothing is recorded;
 * events and counters wait in memory and in the ring, and are written when space returns. A session whose end could
 * never be written (space did not return before its tap exited, or was never there) is noted outside the home, and
 * the next command records its end with its losses (collectors/unrecordedNote.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recoverHomeHandoffs } from '../../collectors/stdio/handoffRecovery.js';
import { untilChanged } from '../support/changeWait.js';
import { busEvents, FIXTURES, requireBuiltCli, runCli } from '../support/tapwireCli.js';

const ECHO = join(FIXTURES, 'echoServer.mjs');
const calls = (from: number, to: number): string =>
  Array.from({ length: to - from }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: from + i, method: 'tools/call', params: { name: 'echo', arguments: { n: from + i } } })}\n`).join('');

/** A tmpfs of `size` of this test's own, or why there is none. */
function smallFilesystem(size = '4m'): { dir: string; unmount(): void } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-full-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a small tmpfs (${(mounted.stderr || mounted.error?.message || '').trim()}): needs root` };
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the filesystem of `dir` to the last byte; the returned function gives the space back. */
function fill(dir: string, name = 'filler'): () => void {
  const file = join(dir, name);
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  // Smaller writes take what the last block left.
  try {
    for (;;) writeSync(fd, block, 0, 1);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return () => rmSync(file);
}

/** A tap on the echo server, with its output gathered and a way to wait on it. */
function startTap(home: string): { stdin: NodeJS.WritableStream; output: { stdout: string; stderr: string }; until(ready: () => boolean | Promise<boolean>): Promise<void>; closed: Promise<number | null> } {
  const tap = spawn(process.execPath, [requireBuiltCli(), 'tap', '--name', 'echo', '--home', home, '--', process.execPath, ECHO]);
  const output = { stdout: '', stderr: '' };
  const changed = new EventEmitter();
  tap.stdout.on('data', (c: Buffer) => {
    output.stdout += c.toString();
    changed.emit('data');
  });
  tap.stderr.on('data', (c: Buffer) => {
    output.stderr += c.toString();
    changed.emit('data');
  });
  const closed = new Promise<number | null>((resolve) => tap.on('close', resolve));
  const until = (ready: () => boolean | Promise<boolean>): Promise<void> => untilChanged(changed, ready);
  return { stdin: tap.stdin, output, until, closed };
}

interface StatusTap {
  server: string;
  state: string;
  events: number;
  dropped: number;
  unobserved_bytes: number;
}

/** Whether status counts a loss for the session: events dropped or bytes not recorded. */
const lost = (tap: StatusTap): boolean => tap.dropped > 0 || tap.unobserved_bytes > 0;

const filesystem = smallFilesystem();

describe.skipIf('skip' in filesystem)(`a tap whose home is on a full disk${'skip' in filesystem ? ` (skipped: ${filesystem.skip})` : ''}`, () => {
  const root = 'dir' in filesystem ? filesystem.dir : '';
  afterAll(() => {
    if ('unmount' in filesystem) filesystem.unmount();
  });

  it('holds events and counters while the disk is full and records them all, with its end, when space returns', async () => {
    const home = join(root, 'returns');
    mkdirSync(home);
    const tap = startTap(home);
    tap.stdin.write(calls(0, 5));
    await tap.until(async () => (await busEvents(home)).length === 11);
    const free = fill(root);
    tap.stdin.write(calls(5, 40));
    await tap.until(() => tap.output.stderr.includes('events cannot be stored') && tap.output.stdout.split('\n').length > 40);
    free();
    await tap.until(async () => (await busEvents(home)).some((e) => e.event.action === 'tap.status'));
    tap.stdin.end(calls(40, 50));
    expect(await tap.closed).toBe(0);

    expect(tap.output.stdout.trim().split('\n')).toHaveLength(50);
    const events = await busEvents(home);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(events.length);
    expect(events.filter((e) => e.mcp.message)).toHaveLength(100);
    expect(events.find((e) => e.event.action === 'tap.status')?.mcp.tap).toMatchObject({ dropped: 0, reason: 'recovered' });
    const end = events.at(-1)!;
    expect(end.event.action).toBe('session.end');
    expect(end.mcp.tap).toMatchObject({ dropped: 0, bytes_unobserved: 0, frames: 100 });
  });

  it('records the end of a session whose end could not be written before the tap exited, with its losses, once space returns', async () => {
    const home = join(root, 'never');
    mkdirSync(home);
    const tap = startTap(home);
    tap.stdin.write(calls(0, 5));
    await tap.until(async () => (await busEvents(home)).length === 11);
    const free = fill(root);
    tap.stdin.end(calls(5, 20));
    expect(await tap.closed).toBe(0);
    expect(tap.output.stdout.trim().split('\n')).toHaveLength(20);
    // The loss is said where it happens: the hand-off could not be written either.
    expect(tap.output.stderr).toMatch(/hand-off could not be written .*events of this session are missing/);
    free();

    // The tap left a note outside the full disk: the next command records the session's end with its losses.
    expect(tap.output.stderr).toMatch(/the session is noted in .*, for the next tapwire command to record with its losses/);
    const status = await runCli(['status', '--json', '--home', home]);
    expect(status.code, status.stderr.toString()).toBe(0);
    const report = JSON.parse(status.stdout.toString()) as { taps: StatusTap[] };
    expect(report.taps).toEqual([expect.objectContaining({ state: 'ended', events: 12 })]);
    expect(lost(report.taps[0]!)).toBe(true);
    const end = (await busEvents(home)).at(-1)!;
    expect(end.event.action).toBe('session.end');
    expect(end.mcp.tap?.reason).toMatch(/^unrecorded: .*the hand-off could not be written/);
    expect(end.mcp.tap?.bytes).toEqual({ client_to_server: calls(0, 20).length, server_to_client: Buffer.byteLength(tap.output.stdout) });
  });

  it('reports a session whose disk was full from its very start, once space returns', async () => {
    const home = join(root, 'from-start');
    mkdirSync(home);
    const free = fill(root);
    const tap = startTap(home);
    tap.stdin.end(calls(0, 20));
    expect(await tap.closed).toBe(0);
    expect(tap.output.stdout.trim().split('\n')).toHaveLength(20);
    expect(tap.output.stderr).toMatch(/hand-off could not be written .*events of this session are missing; the session is noted in /);
    free();

    const status = await runCli(['status', '--json', '--home', home]);
    expect(status.code, status.stderr.toString()).toBe(0);
    const report = JSON.parse(status.stdout.toString()) as { taps: StatusTap[] };
    // Its start and its end: what it carried is counted as lost, nothing of it is passed off as recorded.
    expect(report.taps).toEqual([expect.objectContaining({ server: 'echo', state: 'ended', events: 2 })]);
    expect(lost(report.taps[0]!)).toBe(true);
    const events = await busEvents(home);
    expect(events.map((e) => [e.event.action, e.event.sequence])).toEqual([['session.start', 0], ['session.end', 1]]);
    expect(events[1]!.mcp.tap?.bytes).toEqual({ client_to_server: calls(0, 20).length, server_to_client: Buffer.byteLength(tap.output.stdout) });
    expect(events[1]!.mcp.tap?.reason).toMatch(/^unrecorded: .*the hand-off could not be written/);
  });
});

const roomier = smallFilesystem('32m');

describe.skipIf('skip' in roomier)(`the recovery of a hand-off stopped partway${'skip' in roomier ? ` (skipped: ${roomier.skip})` : ''}`, () => {
  const root = 'dir' in roomier ? roomier.dir : '';
  afterAll(() => {
    if ('unmount' in roomier) roomier.unmount();
  });

  // The bus fills the disk after a batch or two of the hand-off's ~6,000 events (~1.4 KB each): the recovery stops
  // partway, as a killed one does, and the next one must publish only what the first did not. Mutant killed:
  // ignoring the recorded progress (the second recovery published the first one's batches again).
  it('resumes where it stopped: every event of the session on the bus once', async () => {
    const CALLS = 3000;
    const home = join(root, 'resume');
    mkdirSync(join(home, 'bus.sqlite'), { recursive: true }); // a directory where the bus file should be: everything is handed off
    const tap = await runCli(['tap', '--name', 'echo', '--home', home, '--', process.execPath, ECHO], { input: calls(0, CALLS), timeoutMs: 120_000 });
    expect(tap.code, tap.stderr.toString()).toBe(0);
    rmSync(join(home, 'bus.sqlite'), { recursive: true });
    const handoff = join(home, 'handoff');
    const [file] = readdirSync(handoff);
    expect(file).toMatch(/\.handoff$/);

    // 4 MiB left: room for the first batches, not for all of them.
    const reserve = join(root, 'reserve');
    writeFileSync(reserve, Buffer.alloc(4 << 20));
    const freeAll = fill(root);
    rmSync(reserve);
    const warnings: string[] = [];
    const first = await recoverHomeHandoffs({ home, warn: (m) => warnings.push(m) });
    expect(first.sessions).toBe(0);
    expect(warnings.join('\n')).toMatch(/cannot record the hand-off .* yet/);
    freeAll();

    const published = Number(readFileSync(join(handoff, `${file}.progress`), 'latin1').trim());
    const partial = await busEvents(home, { recover: false });
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(2 * CALLS + 2);
    expect(published).toBe(partial.length);

    const events = await busEvents(home);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(events.length);
    expect(events.map((e) => e.event.sequence)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.mcp.message?.kind === 'request').map((e) => e.jsonrpc?.request?.id)).toEqual(Array.from({ length: CALLS }, (_, i) => String(i)));
    expect(events.filter((e) => e.mcp.message?.kind === 'response')).toHaveLength(CALLS);
    expect(events.at(-1)?.mcp.tap).toMatchObject({ frames: 2 * CALLS, events: 2 * CALLS + 1, dropped: 0 });
    expect(readdirSync(handoff)).toEqual([]);
  }, 300_000);
});
