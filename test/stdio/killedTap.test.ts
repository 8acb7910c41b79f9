/**
 * A tap the host kills: the MCP SDK ends a server's stdin, sends SIGTERM 2 s later and SIGKILL 2 s after that, and
 * a tap starved of CPU may still be running then. A SIGTERM must hurry the tap to hand off and exit; a SIGKILL before
 * it did must still leave the session visible, ended with its loss counted, from the note the tap keeps while it runs.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unrecordedNoteNames } from '../../collectors/unrecordedNote.js';
import { untilChanged } from '../support/changeWait.js';
import { busEvents, FIXTURES, REPO_ROOT, requireBuiltCli, runCli, tempHome } from '../support/tapwireCli.js';

const MEMORY_SERVER = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js');
const ECHO_SERVER = join(FIXTURES, 'echoServer.mjs');

interface StatusTap {
  state: string;
  events: number;
  dropped: number;
  unobserved_bytes: number;
}

function startTap(home: string, name: string, server: string[]) {
  const tap = spawn(process.execPath, [requireBuiltCli(), 'tap', '--name', name, '--home', home, '--', ...server], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, MEMORY_FILE_PATH: join(home, 'memory.jsonl') } });
  const output = { stdout: '', stderr: '' };
  const changed = new EventEmitter();
  tap.stdout.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
    changed.emit('data');
  });
  tap.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => tap.on('close', (code, signal) => resolve({ code, signal })));
  return { tap, output, closed, until: (ready: () => boolean | Promise<boolean>) => untilChanged(changed, ready) };
}

async function status(home: string): Promise<StatusTap[]> {
  const result = await runCli(['status', '--json', '--home', home]);
  expect(result.code, result.stderr.toString()).toBe(0);
  return (JSON.parse(result.stdout.toString()) as { taps: StatusTap[] }).taps;
}

const line = (message: object): string => `${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`;

describe('a tap the host kills', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  // Mutant killed: no running note (the session left nothing: status listed no tap, the bus had no end).
  it('SIGKILLed before it recorded or handed off its session: the next command records the end, with the loss', async () => {
    const sessionHome = join(home, 'killed');
    const { tap, output, closed, until } = startTap(sessionHome, 'memory', [process.execPath, MEMORY_SERVER]);
    tap.stdin.write(line({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'killed-tap-test', version: '1' } } }));
    tap.stdin.write(line({ method: 'notifications/initialized' }));
    tap.stdin.write(line({ id: 2, method: 'tools/list' }));
    tap.stdin.write(line({ id: 3, method: 'tools/call', params: { name: 'read_graph', arguments: {} } }));
    await until(() => output.stdout.trim().split('\n').length === 3);

    // While the tap runs, its note is its own: a recovery (here, the test's read of the bus) leaves the session open.
    expect(unrecordedNoteNames(sessionHome)).toHaveLength(1);
    expect((await busEvents(sessionHome)).filter((e) => e.event.action === 'session.end')).toEqual([]);
    expect(unrecordedNoteNames(sessionHome)).toHaveLength(1);

    tap.kill('SIGKILL');
    expect(await closed).toEqual({ code: null, signal: 'SIGKILL' });

    const taps = await status(sessionHome);
    expect(taps).toEqual([expect.objectContaining({ state: 'ended' })]);
    expect(taps[0]!.dropped).toBeGreaterThan(0);
    const events = await busEvents(sessionHome);
    const ends = events.filter((e) => e.event.action === 'session.end');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.mcp.tap?.reason).toBe(`unrecorded: tap ${tap.pid} killed before it recorded or handed off the session; recorded later from its note`);
    // The recovery makes the session's start again, with the id the observer gave it if it had published it first.
    expect(new Set(events.filter((e) => e.event.action === 'session.start').map((e) => e.event.id)).size).toBe(1);
    expect(new Set(events.map((e) => e.mcp.session.id)).size).toBe(1);
    expect(unrecordedNoteNames(sessionHome)).toEqual([]);
  });

  it('SIGTERMed right after its stdin ends: it hands off and exits, and the whole session is recorded', async () => {
    const sessionHome = join(home, 'terminated');
    const { tap, output, closed, until } = startTap(sessionHome, 'echo', [process.execPath, ECHO_SERVER]);
    const calls = Array.from({ length: 5 }, (_, i) => line({ id: i, method: 'tools/call', params: { name: 'echo', arguments: { n: i } } }));
    // Answers show the tap running (its signal handling is in place before its server starts).
    tap.stdin.write(calls.join(''));
    await until(() => output.stdout.split('\n').filter(Boolean).length === 5);
    tap.stdin.end();
    tap.kill('SIGTERM');
    // The echo server exits at its stdin's end, or dies of the forwarded SIGTERM if that comes first.
    expect([0, 143]).toContain((await closed).code);

    const taps = await status(sessionHome);
    expect(taps).toEqual([expect.objectContaining({ state: 'ended', events: 5 + 5 + 2, dropped: 0, unobserved_bytes: 0 })]);
    const events = await busEvents(sessionHome);
    expect(events.at(-1)!.event.action).toBe('session.end');
    expect(unrecordedNoteNames(sessionHome)).toEqual([]);
  });
});
