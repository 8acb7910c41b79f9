import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { eventsOf, expectCorrelated, expectSchemaValid, httpOf, messageEvents } from './eventChecks.js';
import { startProxy, type ProxyProcess } from './proxyHarness.js';
import { startStreamableServer, type TestHttpServer } from './sdkHttpServers.js';

async function connect(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { reconnectionOptions: { initialReconnectionDelay: 20, maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 1, maxRetries: 5 } });
  const client = new Client({ name: 'lifecycle-host', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** Expiry: the server forgets the session, the next call gets 404, and the client initializes a new one. */
async function expiryRun(url: string, server: TestHttpServer): Promise<{ status: unknown; after: unknown; first: string; second: string; lateStatus: number }> {
  const first = await connect(url);
  await first.client.callTool({ name: 'echo', arguments: { text: 'before expiry' } });
  await server.expire(first.transport.sessionId!);
  const status = await first.client.callTool({ name: 'echo', arguments: { text: 'after expiry' } }).then(
    () => 'no error',
    (error: unknown) => (error instanceof StreamableHTTPError ? error.code : String(error)),
  );
  await first.client.close();
  const second = await connect(url);
  const after = await second.client.callTool({ name: 'echo', arguments: { text: 're-initialized' } });
  const ids = { first: first.transport.sessionId!, second: second.transport.sessionId! };
  await second.transport.terminateSession();
  await second.client.close();
  // A GET stream that reconnects after the DELETE, as the client's own may (when, depends on the machine's load).
  const late = await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': ids.second, 'mcp-protocol-version': '2025-11-25' } });
  await late.body?.cancel();
  return { status, after, ...ids, lateStatus: late.status };
}

/** Resumption: the tool's SSE stream is cut mid-call and the client resumes it with Last-Event-ID. */
async function resumptionRun(url: string): Promise<{ result: unknown; tokens: string[]; sessionId: string; replayed: string[] }> {
  const { client, transport } = await connect(url);
  const tokens: string[] = [];
  const result = await client.callTool({ name: 'interrupted', arguments: {} }, undefined, { onresumptiontoken: (token) => tokens.push(token) });
  const sessionId = transport.sessionId!;
  // A second resume from the stream's first (priming) event replays what the client already has.
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25', 'last-event-id': tokens[0]! },
    signal: abort.signal,
  });
  const reader = response.body!.getReader();
  let text = '';
  while (!text.includes('after the cut')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  abort.abort();
  await reader.cancel().catch(() => undefined);
  const replayed = [...text.matchAll(/data: (\{.*\})/g)].map((m) => JSON.parse(m[1]!) as { params?: { data?: string } }).map((m) => m.params?.data ?? 'response');
  await transport.terminateSession();
  await client.close();
  return { result, tokens, sessionId, replayed };
}

describe('Streamable HTTP sessions through the proxy: expiry, re-initialize, resumption', () => {
  const { home, remove } = tempHome();
  let server: TestHttpServer;
  let proxy: ProxyProcess;
  let expiry: { direct: Awaited<ReturnType<typeof expiryRun>>; proxied: Awaited<ReturnType<typeof expiryRun>> };
  let resumption: { direct: Awaited<ReturnType<typeof resumptionRun>>; proxied: Awaited<ReturnType<typeof resumptionRun>> };
  let events: McpEvent[];

  beforeAll(async () => {
    server = await startStreamableServer({ stateful: true, json: false, resumable: { retryMs: 30 } });
    proxy = await startProxy(['--upstream', server.url, '--name', 'lifecycle', '--home', home]);
    expiry = { direct: await expiryRun(server.url, server), proxied: await expiryRun(`${proxy.url}/mcp`, server) };
    resumption = { direct: await resumptionRun(server.url), proxied: await resumptionRun(`${proxy.url}/mcp`) };
    await proxy.stop();
    events = eventsOf(await busEvents(home), 'lifecycle');
  });
  afterAll(async () => {
    await proxy?.stop();
    await server?.close();
    remove();
  });

  it('passes the 404 of an expired session through, and the re-initialized session works', () => {
    expect(expiry.direct.status).toBe(404);
    expect(expiry.proxied.status).toBe(404);
    expect(expiry.proxied.after).toEqual(expiry.direct.after);
    expect(expiry.direct.lateStatus).toBe(404);
    expect(expiry.proxied.lateStatus).toBe(404);
    expectSchemaValid(events);
  });

  it('ends the expired session on the 404 and records the new one under its new Mcp-Session-Id until its DELETE', () => {
    const byHttpId = (id: string): McpEvent[] => events.filter((e) => e.mcp.session.http_id === id);
    /** The events after a session's one end: its client's GET streams that reconnected after it, answered 404 or cut. */
    const afterEnd = (session: McpEvent[], reason: RegExp): McpEvent[] => {
      const end = session.findIndex((e) => e.event.action === 'session.end');
      expect(session[end]!.message).toMatch(reason);
      expect(session.filter((e) => e.event.action === 'session.end')).toHaveLength(1);
      const late = session.slice(end + 1);
      expect(late.every((e) => httpOf(e).request!.method === 'GET')).toBe(true);
      expect(late.every((e) => (e.mcp.message?.kind === 'error' && httpOf(e).response!.status_code === 404) || e.message === 'exchange cut: client closed the connection')).toBe(true);
      return late;
    };
    const expired = byHttpId(expiry.proxied.first);
    const renewed = byHttpId(expiry.proxied.second);
    expect(new Set(expired.map((e) => e.mcp.session.id)).size).toBe(1);
    expect(new Set(renewed.map((e) => e.mcp.session.id)).size).toBe(1);
    expect(expired[0]!.mcp.session.id).not.toBe(renewed[0]!.mcp.session.id);
    const notFound = expired.find((e) => e.mcp.message?.kind === 'error');
    expect(httpOf(notFound).response!.status_code).toBe(404);
    expect(notFound?.error?.code).toBe('-32001');
    // The client's GET stream may reconnect after the 404 that ended the session (on a busy machine it often
    // does): that request joins the ended session after its end, and is answered 404 too, or is cut by the client
    // closing before the answer came.
    afterEnd(expired, /404/);
    expect(expired.find((e) => e.event.action === 'session.end')!.event.outcome).toBe('failure');
    expect(messageEvents(renewed).map((e) => e.event.action)).toContain('initialize');
    // The same after the DELETE: the GET sent after it (at least) joins the deleted session, after its end.
    expect(afterEnd(renewed, /DELETE/).some((e) => httpOf(e).response?.status_code === 404)).toBe(true);
  });

  it('resumes a cut SSE stream with Last-Event-ID: the client gets the same result and replay as directly', () => {
    expect(resumption.proxied.result).toEqual(resumption.direct.result);
    expect(resumption.proxied.result).toMatchObject({ content: [{ text: 'survived the cut' }] });
    expect(resumption.proxied.replayed).toEqual(resumption.direct.replayed);
    expect(resumption.proxied.replayed).toEqual(['before the cut', 'after the cut', 'response']);
  });

  it('records each replayed event once, and correlates the response that arrived on the resumed stream', () => {
    const session = events.filter((e) => e.mcp.session.http_id === resumption.proxied.sessionId);
    const logged = messageEvents(session).filter((e) => e.event.action === 'notifications/message').map((e) => (e.mcp.params as { data: string }).data);
    expect(logged).toEqual(['before the cut', 'after the cut']);
    const responses = messageEvents(session).filter((e) => e.event.action === 'tools/call' && e.mcp.message!.kind === 'response');
    expect(responses).toHaveLength(1);
    expect(httpOf(responses[0]!).request).toMatchObject({ method: 'GET', headers: { 'last-event-id': resumption.proxied.tokens[1] } });
    expectCorrelated(session);
  });
});

/** A 2026-07-28 style server: POST only, no sessions; results carry server info in _meta. */
async function startPostOnlyServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Method not allowed.' } }));
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as { id: number; params: { name: string } };
      const result = { content: [{ type: 'text', text: `called ${request.params.name}` }], resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'post-only', version: '9.0.0' } } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: request.id, result }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp` };
}

function postOnlyCall(url: string, id: number, headerName: string): Promise<Response> {
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'future-host', version: '0.1' } };
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-method': 'tools/call', 'mcp-name': headerName },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'lookup', arguments: { q: 'x' }, _meta: meta } }),
  });
}

describe('the 2026-07-28 POST-only form through the proxy', () => {
  const { home, remove } = tempHome();
  let upstream: { server: Server; url: string };
  let proxy: ProxyProcess;
  let events: McpEvent[];
  const answers: { direct: unknown[]; proxied: unknown[] } = { direct: [], proxied: [] };

  beforeAll(async () => {
    upstream = await startPostOnlyServer();
    proxy = await startProxy(['--upstream', upstream.url, '--name', 'post-only', '--home', home]);
    for (const [key, url] of [['direct', upstream.url], ['proxied', `${proxy.url}/mcp`]] as const) {
      answers[key].push(await (await postOnlyCall(url, 1, 'lookup')).json());
      answers[key].push(await (await postOnlyCall(url, 2, 'delete_everything')).json());
      answers[key].push((await fetch(url, { headers: { accept: 'text/event-stream' } })).status);
    }
    await proxy.stop();
    events = eventsOf(await busEvents(home), 'post-only');
  });
  afterAll(async () => {
    await proxy?.stop();
    await new Promise((resolve) => upstream?.server.close(resolve));
    remove();
  });

  it('answers as the server does: results, and 405 for GET', () => {
    expect(answers.proxied).toEqual(answers.direct);
    expect(answers.proxied[2]).toBe(405);
  });

  it('records the calls with their Mcp-Method and Mcp-Name headers and the version and identities from _meta', () => {
    expectSchemaValid(events);
    const calls = messageEvents(events).filter((e) => e.mcp.message!.kind === 'request');
    expect(calls).toHaveLength(2);
    expect(calls[0]!.mcp.protocol?.version).toBe('2026-07-28');
    expect(calls[0]!.mcp.client?.name).toBe('future-host');
    expect((calls[0]!.http as { request: { headers: Record<string, string> } }).request.headers).toMatchObject({ 'mcp-method': 'tools/call', 'mcp-name': 'lookup' });
    const result = messageEvents(events).find((e) => e.mcp.message!.kind === 'response');
    expect(result?.mcp.server.reported_name).toBe('post-only');
    expect(result?.mcp.result_type).toBe('complete');
    expectCorrelated(events);
  });

  it('reports a Mcp-Name header that disagrees with the body as a posture finding', () => {
    const findings = events.filter((e) => e.event.action === 'posture.finding').map((e) => e.mcp.posture);
    expect(findings).toEqual([{ finding: 'mcp_header_mismatch', detail: "Mcp-Name 'delete_everything' but the body names 'lookup'" }]);
  });
});
