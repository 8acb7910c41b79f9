/**
 * A tap on a busy machine: both cores are kept busy by other processes, so the observer (lowest CPU priority)
 * gets almost no time, and the tap must exit soon after its server does. Nothing may be lost silently: what
 * the observer did not record is handed off at exit and recorded by the next tapwire command.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { saturateCores } from '../support/busyCores.js';
import { busEvents, FIXTURES, runCli, tempHome } from '../support/tapwireCli.js';

const ECHO_SERVER = join(FIXTURES, 'echoServer.mjs');

function toolCalls(count: number): string {
  return Array.from({ length: count }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { n: i } } })}\n`).join('');
}

interface StatusTap {
  session: string;
  state: string;
  events: number;
  dropped: number;
  unobserved_bytes: number;
}

async function status(home: string): Promise<{ taps: StatusTap[]; dropped: number }> {
  const result = await runCli(['status', '--json', '--home', home], { timeoutMs: 600_000 });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.toString()) as { taps: StatusTap[]; dropped: number };
}

/** Every message of `calls` tools/call round trips is recorded once, in order, between one start and one end. */
function expectWholeSession(events: McpEvent[], calls: number): void {
  expect(new Set(events.map((e) => e.event.id)).size).toBe(events.length);
  expect(events.map((e) => e.event.sequence)).toEqual(events.map((_, i) => i));
  expect(events[0]!.event.action).toBe('session.start');
  expect(events.at(-1)!.event.action).toBe('session.end');
  const messages = events.filter((e) => e.mcp.message);
  expect(messages.filter((e) => e.mcp.message!.kind === 'request').map((e) => e.jsonrpc!.request!.id)).toEqual(Array.from({ length: calls }, (_, i) => String(i)));
  expect(messages.filter((e) => e.mcp.message!.kind === 'response').map((e) => e.jsonrpc!.request!.id)).toEqual(Array.from({ length: calls }, (_, i) => String(i)));
  // Each response is correlated with its request, also when the observer recorded the request and the hand-off the
  // response: the observer's state travels with the hand-off. (The normalizer remembers 10,000 requests in flight: a
  // host that writes more calls than that before the answers come loses the oldest ones' correlation by design.)
  if (calls <= 10_000) expect(messages.filter((e) => e.mcp.message!.kind === 'response' && !(e.mcp.message!.correlated && e.gen_ai?.tool?.name === 'echo'))).toEqual([]);
  // The end's counters cover every event before it, however the session was recorded.
  expect(events.at(-1)!.mcp.tap).toMatchObject({ dropped: 0, bytes_unobserved: 0, events: events.length - 1, frames: 2 * calls });
}

describe('a tap whose observer is starved of CPU', () => {
  const { home, remove } = tempHome();
  let cores: { stop(): Promise<void> };
  beforeAll(async () => {
    cores = await saturateCores();
  });
  afterAll(async () => {
    await cores.stop();
    remove();
  });

  async function tapSession(name: string, calls: number, env: NodeJS.ProcessEnv = {}): Promise<McpEvent[]> {
    const sessionHome = join(home, name);
    const run = await runCli(['tap', '--name', name, '--home', sessionHome, '--', process.execPath, ECHO_SERVER], { input: toolCalls(calls), env, timeoutMs: 600_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.toString().split('\n').filter(Boolean)).toHaveLength(calls);
    const report = await status(sessionHome);
    expect(report.dropped).toBe(0);
    expect(report.taps).toHaveLength(1);
    expect(report.taps[0]).toMatchObject({ state: 'ended', events: 2 * calls + 2, dropped: 0, unobserved_bytes: 0 });
    return busEvents(sessionHome);
  }

  it('records every message of a short session (80 tools/call, server exits at stdin EOF)', async () => {
    expectWholeSession(await tapSession('short', 80), 80);
  });

  it('records every message when the tap hands off at once, whatever the observer had recorded by then', async () => {
    expectWholeSession(await tapSession('immediate', 80, { TAPWIRE_TAP_HANDOFF_MS: '0' }), 80);
  });

  // The 200,002-message session (100,001 calls) passes too, in about 4 minutes on two saturated cores;
  // a tenth of it overflows a 1 MiB ring just as surely and keeps the suite's time reasonable.
  it('records all 40,002 messages of a long session that overflows the ring', async () => {
    expectWholeSession(await tapSession('long', 20_001, { TAPWIRE_TAP_RING_BYTES: String(1 << 20) }), 20_001);
  }, 600_000);
});
