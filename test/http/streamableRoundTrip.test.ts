import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { RecordingTransport, type RecordedMessage } from '../support/recordingTransport.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { clientShapes, eventShapes, eventsOf, expectCorrelated, expectSchemaValid, httpOf, messageEvents, urlOf } from './eventChecks.js';
import { startProxy, type ProxyProcess } from './proxyHarness.js';
import { startStreamableServer, type StreamableOptions, type TestHttpServer } from './sdkHttpServers.js';

interface Mode extends StreamableOptions {
  name: string;
}

const MODES: Mode[] = [
  { name: 'stateful-sse', stateful: true, json: false },
  { name: 'stateful-json', stateful: true, json: true },
  { name: 'stateless-sse', stateful: false, json: false },
  { name: 'stateless-json', stateful: false, json: true },
];

interface SessionRun {
  log: RecordedMessage[];
  sessionId: string | undefined;
  results: unknown[];
}

/** One host session; what it can exercise depends on the mode (sampling needs SSE and a session). */
async function hostSession(url: string, mode: Mode): Promise<SessionRun> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const recorder = new RecordingTransport(transport);
  const client = new Client({ name: 'http-host', version: '2.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: 'forty-two' }, model: 'test-model' }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { env: 'dev' } }));
  const logged = new Promise<string>((resolve) => client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => resolve(String(n.params.data))));
  await client.connect(recorder);
  const results: unknown[] = [];
  results.push((await client.listTools()).tools.map((t) => t.name));
  results.push(await client.callTool({ name: 'echo', arguments: { text: `hello via ${mode.name}` } }));
  results.push(await client.callTool({ name: 'slow', arguments: { steps: 3 } }, undefined, { onprogress: () => undefined }));
  if (mode.stateful && !mode.json) {
    results.push(await client.callTool({ name: 'ask_model', arguments: { question: 'What is the answer?' } }));
    results.push(await client.callTool({ name: 'ask_user', arguments: {} }));
  }
  if (mode.stateful) {
    results.push(await client.callTool({ name: 'announce', arguments: { text: 'on the GET stream' } }));
    results.push(await logged);
  }
  results.push(await client.ping());
  const sessionId = transport.sessionId;
  if (mode.stateful) await transport.terminateSession();
  await client.close();
  return { log: recorder.log, sessionId, results };
}

describe.each(MODES)('Streamable HTTP through the proxy: $name', (mode) => {
  const { home, remove } = tempHome();
  let server: TestHttpServer;
  let proxy: ProxyProcess;
  let direct: SessionRun;
  let proxied: SessionRun;
  let events: McpEvent[];

  beforeAll(async () => {
    server = await startStreamableServer(mode);
    proxy = await startProxy(['--upstream', server.url, '--name', mode.name, '--home', home]);
    direct = await hostSession(server.url, mode);
    proxied = await hostSession(`${proxy.url}/mcp`, mode);
    expect(await proxy.stop()).toBe(0);
    events = eventsOf(await busEvents(home), mode.name);
  });
  afterAll(async () => {
    await proxy?.stop();
    await server?.close();
    remove();
  });

  it('gives the client exactly what a direct connection gives', () => {
    expect(proxied.results).toEqual(direct.results);
    expect(proxied.log.map((m) => m.message)).toEqual(direct.log.map((m) => m.message));
  });

  it('records every message once, schema-valid, with the transport and the HTTP context', () => {
    expectSchemaValid(events);
    expect(eventShapes(events)).toEqual(clientShapes(proxied.log));
    for (const event of messageEvents(events)) {
      expect(event.mcp.transport).toBe('streamable_http');
      expect(event.mcp.server.id).toBe(server.url);
      expect(event.observer.type).toBe('http_tap');
      expect(urlOf(event).path).toBe('/mcp');
      expect((event.source as { ip: string }).ip).toBe('127.0.0.1');
      expect(httpOf(event).request.method).toMatch(/^(POST|GET)$/);
      expect(event.user_agent).toBeDefined();
    }
  });

  it('correlates responses with their requests, in both directions', () => {
    expectCorrelated(events);
    const call = messageEvents(events).find((e) => e.event.action === 'tools/call' && e.mcp.message?.kind === 'response' && e.gen_ai?.tool?.name === 'echo');
    expect(call?.gen_ai?.tool?.call?.result).toMatchObject({ content: [{ type: 'text', text: `hello via ${mode.name}` }] });
    expect(call?.mcp.protocol?.version).toBe('2025-11-25');
    expect(call?.mcp.client?.name).toBe('http-host');
    expect(call?.mcp.server.reported_name).toBe('http-kitchen');
  });

  it.runIf(mode.stateful)('keeps one session per Mcp-Session-Id, linked to it, from start to DELETE', () => {
    const sessions = new Set(messageEvents(events).map((e) => e.mcp.session.id));
    expect(sessions.size).toBe(1);
    const [session] = sessions;
    const own = events.filter((e) => e.mcp.session.id === session);
    expect(own[0]!.event.action).toBe('session.start');
    expect(own.at(-1)!.event.action).toBe('session.end');
    expect(own.at(-1)!.message).toMatch(/DELETE/);
    expect(messageEvents(own).every((e) => e.mcp.session.http_id === proxied.sessionId)).toBe(true);
  });

  it.runIf(mode.stateful)('records the GET stream: notifications the server sends outside any request', () => {
    const log = messageEvents(events).find((e) => e.event.action === 'notifications/message');
    expect(log?.mcp.direction).toBe('server_to_client');
    expect(httpOf(log).request.method).toBe('GET');
    expect(log?.mcp.params).toMatchObject({ data: 'on the GET stream' });
  });

  it.runIf(mode.stateful && !mode.json)('records sampling and elicitation requests the server sends over SSE, and the client answers', () => {
    const actions = messageEvents(events).map((e) => `${e.mcp.direction} ${e.mcp.message!.kind} ${e.event.action}`);
    expect(actions).toContain('server_to_client request sampling/createMessage');
    expect(actions).toContain('client_to_server response sampling/createMessage');
    expect(actions).toContain('server_to_client request elicitation/create');
    expect(actions).toContain('client_to_server response elicitation/create');
  });

  it.runIf(!mode.stateful)('groups stateless traffic by client, starting a new session at each initialize', () => {
    const initializes = messageEvents(events).filter((e) => e.event.action === 'initialize' && e.mcp.message!.kind === 'request');
    expect(initializes).toHaveLength(1);
    expect(new Set(messageEvents(events).map((e) => e.mcp.session.id)).size).toBe(1);
    expect(messageEvents(events).every((e) => e.mcp.session.http_id === undefined)).toBe(true);
  });
});
