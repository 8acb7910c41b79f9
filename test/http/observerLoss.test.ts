/**
 * Telemetry the proxy's observer could not store is counted and visible, not only said on stderr: with the bus held
 * by another writer for the proxy's whole life, none of what it observed can be stored, its end included. The proxy
 * notes the loss at exit; the next tapwire command records it, and `status` shows the proxy session with its losses.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { busEvents, lockBus, runCli, tempHome } from '../support/tapwireCli.js';
import { startProxy } from './proxyHarness.js';
import { startStreamableServer } from './sdkHttpServers.js';

describe('a proxy whose observer cannot store what it saw', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('notes the loss at exit, and the next command records it: status counts every event of the session as dropped', async () => {
    const server = await startStreamableServer({ stateful: true, json: true });
    const holder = lockBus(home);
    let released = false;
    try {
      const proxy = await startProxy(['--upstream', server.url, '--home', home]);
      const client = new Client({ name: 'loss-host', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`));
      await client.connect(transport);
      const result = await client.callTool({ name: 'echo', arguments: { text: 'unrecorded' } });
      expect(result.content).toEqual([{ type: 'text', text: 'unrecorded' }]);
      await client.close();
      expect(await proxy.stop()).toBe(0);
      expect(proxy.stderr()).toMatch(/(could not be stored|stopped making progress)[^\n]*; the loss is noted in /);
      holder.release();
      released = true;
    } finally {
      if (!released) holder.release();
      await server.close();
    }

    const status = await runCli(['status', '--json', '--home', home]);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout.toString()) as { dropped: number; taps: { server: string; state: string; dropped: number }[] };
    const tap = report.taps.find((t) => t.server === 'tapwire-proxy');
    // At least initialize, its result, notifications/initialized, the tools/call and its result were observed; none was stored.
    expect(tap).toMatchObject({ state: 'ended', dropped: expect.any(Number) });
    expect(tap!.dropped).toBeGreaterThanOrEqual(5);
    expect(report.dropped).toBe(tap!.dropped);

    const events = await busEvents(home);
    expect(events.map((e) => e.event.action)).toEqual(['session.end']);
    expect(events[0]!.mcp.server.name).toBe('tapwire-proxy');
    // The bus was locked throughout: every event the observer made is one dropped.
    expect(events[0]!.mcp.tap).toMatchObject({ events: tap!.dropped, dropped: tap!.dropped, reason: expect.stringMatching(/^unrecorded: /) });
  });
});
