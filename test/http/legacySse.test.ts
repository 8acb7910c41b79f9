import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { RecordingTransport, type RecordedMessage } from '../support/recordingTransport.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { clientShapes, eventShapes, eventsOf, expectCorrelated, expectSchemaValid, messageEvents, urlOf } from './eventChecks.js';
import { startProxy, type ProxyProcess } from './proxyHarness.js';
import { startLegacySseServer, type TestHttpServer } from './sdkHttpServers.js';

async function hostSession(url: string): Promise<{ log: RecordedMessage[]; results: unknown[] }> {
  const recorder = new RecordingTransport(new SSEClientTransport(new URL(url)));
  const client = new Client({ name: 'legacy-host', version: '0.9.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: 'seven' }, model: 'm' }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'decline' }));
  await client.connect(recorder);
  const results: unknown[] = [];
  results.push((await client.listTools()).tools.map((t) => t.name));
  results.push(await client.callTool({ name: 'echo', arguments: { text: 'over legacy SSE' } }));
  results.push(await client.callTool({ name: 'slow', arguments: { steps: 2 } }, undefined, { onprogress: () => undefined }));
  results.push(await client.callTool({ name: 'ask_model', arguments: { question: 'How many?' } }));
  results.push(await client.callTool({ name: 'ask_user', arguments: {} }));
  await client.close();
  return { log: recorder.log, results };
}

/** The first event of a legacy stream, as a client receives it. */
async function firstEvent(url: string): Promise<string> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
  const reader = response.body!.getReader();
  let text = '';
  while (!text.includes('\n\n')) text += Buffer.from((await reader.read()).value ?? []).toString('utf8');
  abort.abort();
  await reader.cancel().catch(() => undefined);
  return text.slice(0, text.indexOf('\n\n'));
}

describe('legacy HTTP+SSE (2024-11-05) through the proxy, mounted under a path prefix', () => {
  const { home, remove } = tempHome();
  let server: TestHttpServer;
  let proxy: ProxyProcess;
  let direct: Awaited<ReturnType<typeof hostSession>>;
  let proxied: Awaited<ReturnType<typeof hostSession>>;
  let endpoints: { direct: string; proxied: string };
  let events: McpEvent[];

  beforeAll(async () => {
    server = await startLegacySseServer();
    const config = join(home, 'proxy.yaml');
    writeFileSync(config, `routes:\n  - name: legacy\n    path: /legacy\n    upstream: ${server.url}\n`);
    proxy = await startProxy(['--config', config, '--home', home]);
    direct = await hostSession(server.url);
    proxied = await hostSession(`${proxy.url}/legacy/sse`);
    endpoints = { direct: await firstEvent(server.url), proxied: await firstEvent(`${proxy.url}/legacy/sse`) };
    await proxy.stop();
    events = eventsOf(await busEvents(home), 'legacy');
  });
  afterAll(async () => {
    await proxy?.stop();
    await server?.close();
    remove();
  });

  it('gives the client exactly what a direct connection gives, sampling and elicitation included', () => {
    expect(proxied.results).toEqual(direct.results);
    expect(proxied.log.map((m) => m.message)).toEqual(direct.log.map((m) => m.message));
  });

  it('rewrites the endpoint event so the client posts back through the proxy', () => {
    expect(endpoints.direct).toMatch(/^event: endpoint\ndata: \/messages\?sessionId=[0-9a-f-]{36}$/);
    expect(endpoints.proxied).toMatch(/^event: endpoint\ndata: \/legacy\/messages\?sessionId=[0-9a-f-]{36}$/);
  });

  it('records every message once as transport sse, correlated across the POSTs and the stream', () => {
    expectSchemaValid(events);
    expect(eventShapes(events)).toEqual(clientShapes(proxied.log));
    expectCorrelated(events);
    for (const event of messageEvents(events)) expect(event.mcp.transport).toBe('sse');
    const posted = messageEvents(events).filter((e) => e.mcp.direction === 'client_to_server');
    expect(posted.every((e) => urlOf(e).path === '/legacy/messages')).toBe(true);
    const streamed = messageEvents(events).filter((e) => e.mcp.direction === 'server_to_client');
    expect(streamed.every((e) => urlOf(e).path === '/legacy/sse')).toBe(true);
  });

  it('keeps one session per stream, linked to its sessionId, ending when the stream closes', () => {
    const sessions = new Set(messageEvents(events).map((e) => e.mcp.session.id));
    expect(sessions.size).toBe(1);
    const own = events.filter((e) => sessions.has(e.mcp.session.id));
    const httpId = own[0]!.mcp.session.http_id;
    expect(httpId).toMatch(/^[0-9a-f-]{36}$/);
    expect(own.every((e) => e.mcp.session.http_id === httpId)).toBe(true);
    expect(own[0]!.event.action).toBe('session.start');
    expect(own.at(-1)).toMatchObject({ event: { action: 'session.end' }, message: 'the legacy SSE stream closed' });
  });
});
