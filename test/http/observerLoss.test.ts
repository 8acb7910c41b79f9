/**
 * Telemetry the proxy's observer could not store is counted and visible, not only said on stderr, and a bus outage
 * at the proxy's close costs nothing when the bus comes back within the stop's stall bound.
 *
 * With the bus held by another writer for the proxy's whole life, none of what it observed can be stored, its end
 * included: the observer keeps retrying, the stop gives up after its stall bound without progress (shortened here
 * through TAPWIRE_PROXY_STALL_MS, the documented setting), tells the observer to give up, and notes the loss; the
 * next tapwire command records it, and `status` shows the proxy session with its losses. A proxy SIGKILLed during
 * such a stop (a supervisor's grace is often shorter than the stall bound) leaves its running note, recorded the same way.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { busEvents, lockBus, runCli, tempHome } from '../support/tapwireCli.js';
import { startProxy, type ProxyProcess } from './proxyHarness.js';
import { startStreamableServer } from './sdkHttpServers.js';

/** Shorter than the default minute, so the test does not wait it out; long enough for a starved observer to report what it made at close. */
const STALL_MS = 20_000;
/** Longer than the fixed 3 s the observer used to retry a failing bus at close before dropping what it held. */
const OUTAGE_MS = 5_000;

interface StatusReport {
  dropped: number;
  taps: { server: string; state: string; dropped: number }[];
}

async function status(home: string): Promise<StatusReport> {
  const result = await runCli(['status', '--json', '--home', home]);
  expect(result.code, result.stderr.toString()).toBe(0);
  return JSON.parse(result.stdout.toString()) as StatusReport;
}

/** One MCP session through the proxy: initialize, initialized, one tools/call, then the client's DELETE. */
async function oneSession(proxy: ProxyProcess): Promise<void> {
  const client = new Client({ name: 'loss-host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`)));
  const result = await client.callTool({ name: 'echo', arguments: { text: 'unrecorded' } });
  expect(result.content).toEqual([{ type: 'text', text: 'unrecorded' }]);
  await client.close();
}

/**
 * One session through a proxy on its own home, stored; then the bus is locked and the proxy asked to stop, and
 * `whileStopping` runs once the stop has met the lock (it may release it); the lock is released after it at the latest.
 * Resolves with the proxy.
 */
async function stopAgainstLockedBus(home: string, whileStopping: (proxy: ProxyProcess, stopped: Promise<number | null>, release: () => void) => Promise<void>): Promise<ProxyProcess> {
  mkdirSync(home);
  const server = await startStreamableServer({ stateful: true, json: true });
  try {
    const proxy = await startProxy(['--upstream', server.url, '--home', home]);
    await oneSession(proxy);
    // The lock hits only what the close makes: the session's messages, the tools/call's result included, are on the bus.
    await until(async () => (await busEvents(home)).filter((e) => e.event.action === 'tools/call').length === 2, 'the tools/call and its result to be stored');
    const holder = lockBus(home);
    let released = false;
    const release = (): void => {
      if (!released) holder.release();
      released = true;
    };
    try {
      const stopped = proxy.stop();
      await until(() => proxy.stderr().includes('events cannot be stored'), 'the observer to meet the locked bus at close');
      await whileStopping(proxy, stopped, release);
    } finally {
      release();
    }
    return proxy;
  } finally {
    await server.close();
  }
}

describe('a proxy whose observer cannot store what it saw', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  // Mutants killed: the stop waiting for the observer without a bound (this test then never ends); the stall path
  // terminating an observer that waits on the bus's lock (the proxy died of a fatal error in better-sqlite3).
  it('stalls on a bus locked for its whole life: the stop gives up after its stall bound and notes the loss; status and the recorded end count it', async () => {
    const lockedHome = `${home}/locked`;
    mkdirSync(lockedHome);
    const server = await startStreamableServer({ stateful: true, json: true });
    const holder = lockBus(lockedHome);
    let released = false;
    try {
      const proxy = await startProxy(['--upstream', server.url, '--home', lockedHome], { TAPWIRE_PROXY_STALL_MS: String(STALL_MS) });
      await oneSession(proxy);
      // The observer has met the locked bus before the stop.
      await until(() => proxy.stderr().includes('events cannot be stored'), 'the observer to meet the locked bus');
      expect(await proxy.stop(), proxy.stderr()).toBe(0);
      expect(proxy.stderr()).toMatch(/\d+ of \d+ events could not be stored \([^\n]*database is locked[^\n]*\); the loss is noted in /);
      holder.release();
      released = true;
    } finally {
      if (!released) holder.release();
      await server.close();
    }

    const report = await status(lockedHome);
    const tap = report.taps.find((t) => t.server === 'tapwire-proxy');
    // At least initialize, its result, notifications/initialized, the tools/call and its result were observed; none was stored.
    expect(tap).toMatchObject({ state: 'ended', dropped: expect.any(Number) });
    expect(tap!.dropped).toBeGreaterThanOrEqual(5);
    expect(report.dropped).toBe(tap!.dropped);

    const events = await busEvents(lockedHome);
    expect(events.map((e) => e.event.action)).toEqual(['session.end']);
    expect(events[0]!.mcp.server.name).toBe('tapwire-proxy');
    // The bus was locked throughout: every event the observer made is one dropped.
    expect(events[0]!.mcp.tap).toMatchObject({
      events: tap!.dropped,
      dropped: tap!.dropped,
      reason: expect.stringMatching(new RegExp(`^unrecorded: the bus did not take ${tap!.dropped} of ${tap!.dropped} events, storing nothing for ${STALL_MS} ms before the proxy stopped waiting \\(.*database is locked.*\\); recorded later from the proxy's note$`)),
    });
  });

  // Mutants killed: the observer's fixed 3 s of retries at close (it dropped the session's last events and its end);
  // the running note left behind by a clean stop (a second, "killed" end was recorded, with one dropped event).
  it('waits out a bus outage at close longer than a few seconds: every event is stored by the proxy itself, nothing is counted lost', async () => {
    const outageHome = `${home}/outage`;
    const proxy = await stopAgainstLockedBus(outageHome, async (stopping, stopped, release) => {
      await sleep(OUTAGE_MS);
      release();
      expect(await stopped, stopping.stderr()).toBe(0);
    });
    expect(proxy.stderr()).not.toMatch(/could not be stored|made no progress|the loss is noted/);

    const report = await status(outageHome);
    expect(report.taps.find((t) => t.server === 'tapwire-proxy')).toMatchObject({ state: 'ended', dropped: 0 });
    expect(report.dropped).toBe(0);
    const ends = (await busEvents(outageHome)).filter((e) => e.event.action === 'session.end' && e.mcp.server.name === 'tapwire-proxy');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.mcp.tap).toMatchObject({ dropped: 0 });
    expect(ends[0]!.mcp.tap!.reason).toBeUndefined();
  });

  // Mutant killed: no running note (the killed proxy's session then stays open in status, with no loss counted).
  it('SIGKILLed during a stop that waits on the bus: the next command records the end from the running note, with the loss', async () => {
    const killedHome = `${home}/killed`;
    // The supervisor's grace runs out while the stop waits on the bus.
    await stopAgainstLockedBus(killedHome, (proxy) => proxy.kill());

    const report = await status(killedHome);
    const tap = report.taps.find((t) => t.server === 'tapwire-proxy');
    expect(tap).toMatchObject({ state: 'ended', dropped: 1 });
    expect(report.dropped).toBe(1);
    const events = await busEvents(killedHome);
    const proxyEvents = events.filter((e) => e.mcp.server.name === 'tapwire-proxy');
    const ends = proxyEvents.filter((e) => e.event.action === 'session.end');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.event.outcome).toBe('unknown');
    expect(ends[0]!.mcp.tap!.reason).toMatch(/^unrecorded: tapwire proxy \d+ was killed before it recorded its session's end; what its observer had not stored then is lost, and not counted; recorded later from the proxy's note$/);
    // Numbered after every event the observer may have published.
    expect(Math.max(...proxyEvents.map((e) => e.event.sequence))).toBe(ends[0]!.event.sequence);
    // Recorded once: a later command finds no note left.
    await status(killedHome);
    expect((await busEvents(killedHome)).filter((e) => e.event.action === 'session.end' && e.mcp.server.name === 'tapwire-proxy')).toHaveLength(1);
  });
});
