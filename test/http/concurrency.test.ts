import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { eventsOf, expectCorrelated, messageEvents } from './eventChecks.js';
import { startProxy, type ProxyProcess } from './proxyHarness.js';
import { startStreamableServer, type TestHttpServer } from './sdkHttpServers.js';

const SESSIONS = 50;
const CALLS = 200;
/** 10,000 calls take minutes when other work keeps every core busy; generous, and nothing here waits on time. */
const SETUP_TIMEOUT_MS = 600_000;

interface ClientRun {
  sessionId: string;
  wrong: number;
}

async function clientRun(url: string, n: number): Promise<ClientRun> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: `host-${n}`, version: '1.0.0' });
  await client.connect(transport);
  let wrong = 0;
  for (let i = 0; i < CALLS; i++) {
    const result = await client.callTool({ name: 'echo', arguments: { text: `client ${n} call ${i}` } });
    if ((result.content as { text: string }[])[0]?.text !== `client ${n} call ${i}`) wrong++;
  }
  const sessionId = transport.sessionId!;
  await transport.terminateSession();
  await client.close();
  return { sessionId, wrong };
}

describe(`${SESSIONS} concurrent sessions × ${CALLS} calls through one proxy`, () => {
  const { home, remove } = tempHome();
  let server: TestHttpServer;
  let proxy: ProxyProcess;
  let runs: ClientRun[];
  let events: McpEvent[];

  beforeAll(async () => {
    server = await startStreamableServer({ stateful: true, json: false });
    proxy = await startProxy(['--upstream', server.url, '--name', 'busy', '--home', home]);
    runs = await Promise.all(Array.from({ length: SESSIONS }, (_, n) => clientRun(`${proxy.url}/mcp`, n)));
    expect(await proxy.stop()).toBe(0);
    events = eventsOf(await busEvents(home), 'busy');
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await proxy?.stop();
    await server?.close();
    remove();
  });

  it('gives every client its own answers', () => {
    expect(runs.map((r) => r.wrong)).toEqual(Array(SESSIONS).fill(0));
    expect(new Set(runs.map((r) => r.sessionId)).size).toBe(SESSIONS);
  });

  it('records each session apart: its own calls and answers, all correlated, none lost', () => {
    const calls = messageEvents(events).filter((e) => e.event.action === 'tools/call');
    expect(calls).toHaveLength(SESSIONS * CALLS * 2);
    for (const [n, run] of runs.entries()) {
      const own = calls.filter((e) => e.mcp.session.http_id === run.sessionId);
      expect(own).toHaveLength(CALLS * 2);
      expect(new Set(own.map((e) => e.mcp.session.id)).size).toBe(1);
      expect(own.every((e) => e.mcp.client?.name === `host-${n}`)).toBe(true);
      const texts = own.map((e) => JSON.stringify(e.gen_ai?.tool?.call?.arguments ?? e.gen_ai?.tool?.call?.result));
      expect(texts.every((t) => t.includes(`client ${n} call `))).toBe(true);
    }
    expectCorrelated(events);
  });

  it('ends every session once, on its DELETE', () => {
    const ends = events.filter((e) => e.event.action === 'session.end');
    expect(ends).toHaveLength(SESSIONS);
    expect(ends.every((e) => e.message === 'the client ended the session (DELETE)')).toBe(true);
  });
});
