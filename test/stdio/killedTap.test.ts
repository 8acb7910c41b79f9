/**
 * A tap the host kills: the MCP SDK ends a server's stdin, sends SIGTERM 2 s later and SIGKILL 2 s after that, and
 * a tap starved of CPU may still be running then. A SIGTERM must hurry the tap to hand off and exit; a SIGKILL before
 * it did must still leave the session visible, ended with its loss counted, from the note the tap keeps while it runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recoverHomeHandoffs } from '../../collectors/stdio/handoffRecovery.js';
import { unrecordedNoteDirectory, unrecordedNoteNames } from '../../collectors/unrecordedNote.js';
import { until as untilTrue } from '../support/until.js';
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

  // Mutants killed: no running note (the session left nothing: status listed no tap, the bus had no end); no observer
  // progress beside it (the end was numbered Number.MAX_SAFE_INTEGER and counted one event dropped that was not); the
  // recoverer opening its collector bus while only the running tap's note is there (the Kafka recoverer's spool appeared).
  it('SIGKILLed before it recorded or handed off its session: the next command records the end right after its last event, with the loss', async () => {
    const sessionHome = join(home, 'killed');
    const { tap, output, closed, until } = startTap(sessionHome, 'memory', [process.execPath, MEMORY_SERVER]);
    const sent = [
      line({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'killed-tap-test', version: '1' } } }),
      line({ method: 'notifications/initialized' }),
      line({ id: 2, method: 'tools/list' }),
      line({ id: 3, method: 'tools/call', params: { name: 'read_graph', arguments: {} } }),
    ];
    for (const message of sent) tap.stdin.write(message);
    await until(() => output.stdout.trim().split('\n').length === 3);

    // While the tap runs, its note is its own: a recovery (here, the test's read of the bus) leaves the session open.
    // The kill comes once the observer has published the whole session so far: its start and the 7 messages.
    await untilTrue(async () => (await busEvents(sessionHome)).length === 8, 'the observer to publish the session so far');
    expect(unrecordedNoteNames(sessionHome)).toHaveLength(1);
    expect((await busEvents(sessionHome)).filter((e) => e.event.action === 'session.end')).toEqual([]);
    expect(unrecordedNoteNames(sessionHome)).toHaveLength(1);
    // An idle command polls for sessions to record; with only running taps' notes it must not open its collector bus
    // each time. This recoverer's bus would be Kafka (unreachable) with its spool here: opening it makes the spool.
    const recovererSpool = join(home, 'recoverer-spool');
    const recovererConfig = join(home, 'recoverer.yaml');
    writeFileSync(recovererConfig, ['bus: kafka', 'kafka:', '  brokers: ["127.0.0.1:9"]', `spool: { dir: ${JSON.stringify(recovererSpool)} }`, ''].join('\n'));
    const warnings: string[] = [];
    expect(await recoverHomeHandoffs({ home: sessionHome, configFile: recovererConfig, warn: (m) => warnings.push(m) })).toEqual({ sessions: 0, frames: 0 });
    expect(existsSync(recovererSpool)).toBe(false);
    expect(warnings).toEqual([]);
    expect(unrecordedNoteNames(sessionHome)).toHaveLength(1);

    tap.kill('SIGKILL');
    expect(await closed).toEqual({ code: null, signal: 'SIGKILL' });

    const taps = await status(sessionHome);
    // Every frame was on the bus before the kill: nothing is lost but the end, which the recovery makes.
    expect(taps).toEqual([expect.objectContaining({ state: 'ended', events: 9, dropped: 0, unobserved_bytes: 0 })]);
    const events = await busEvents(sessionHome);
    // The recovery makes the start again (the same id: the store keeps one), then the end, right after the last event.
    expect(events.map((e) => e.event.sequence)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 0, 8]);
    expect(events[8]!.event.id).toBe(events[0]!.event.id);
    const end = events.at(-1)!;
    expect(end.event.action).toBe('session.end');
    expect(end.mcp.tap).toEqual({
      frames: 7,
      events: 8,
      dropped: 0,
      bytes_unobserved: 0,
      bytes: { client_to_server: Buffer.byteLength(sent.join('')), server_to_client: Buffer.byteLength(output.stdout) },
      reason: `unrecorded: tap ${tap.pid} killed before it recorded or handed off the session; recorded later from its note (and its observer's progress: traffic the observer had not read by then is not counted)`,
    });
    expect(new Set(events.map((e) => e.mcp.session.id)).size).toBe(1);
    expect(unrecordedNoteNames(sessionHome)).toEqual([]);
    expect(readdirSync(unrecordedNoteDirectory(sessionHome))).toEqual([]);
  });

  // Mutant killed: listing only unclaimed notes (`<session>.json`) left this session open for good.
  it('SIGKILLed, its note then claimed by a recoverer that died before recording it: the next command takes it over', async () => {
    const sessionHome = join(home, 'claimed');
    const { tap, output, closed, until } = startTap(sessionHome, 'echo', [process.execPath, ECHO_SERVER]);
    tap.stdin.write(line({ id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } }));
    await until(() => output.stdout.includes('"id":1'));
    await untilTrue(async () => (await busEvents(sessionHome)).length === 3, 'the observer to publish the start and the call');
    tap.kill('SIGKILL');
    expect(await closed).toEqual({ code: null, signal: 'SIGKILL' });

    const [note] = unrecordedNoteNames(sessionHome);
    const recoverer = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => recoverer.on('exit', resolve));
    renameSync(join(unrecordedNoteDirectory(sessionHome), note!), join(unrecordedNoteDirectory(sessionHome), `${note}.${recoverer.pid}`));

    // Its start, the call, the answer, and the end the recovery makes.
    expect(await status(sessionHome)).toEqual([expect.objectContaining({ state: 'ended', events: 4, dropped: 0 })]);
    expect((await busEvents(sessionHome)).at(-1)!.event.action).toBe('session.end');
    expect(readdirSync(unrecordedNoteDirectory(sessionHome))).toEqual([]);
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
