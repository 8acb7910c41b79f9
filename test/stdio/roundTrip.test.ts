import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEvent } from '../../pipeline/schemaValidator.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { RecordingTransport, type RecordedMessage } from '../support/recordingTransport.js';
import { busEvents, FIXTURES, processGone, tapArgv, tempHome } from '../support/tapwireCli.js';

const SERVER = join(FIXTURES, 'kitchenSinkServer.mjs');

/** A host session that touches every part of the catalogue the kitchen-sink server offers. */
async function hostSession(transport: StdioClientTransport): Promise<RecordedMessage[]> {
  const recorder = new RecordingTransport(transport);
  const client = new Client({ name: 'roundtrip-host', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: 'forty-two' }, model: 'test-model', stopReason: 'endTurn' }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { env: 'dev' } }));
  await client.connect(recorder);
  await client.listTools();
  await client.callTool({ name: 'echo', arguments: { text: 'hello through the tap' } });
  await client.callTool({ name: 'slow', arguments: { steps: 3 } }, undefined, { onprogress: () => undefined });
  const abort = new AbortController();
  await expect(client.callTool({ name: 'slow', arguments: { steps: 500 } }, undefined, { signal: abort.signal, onprogress: () => abort.abort('user cancelled') })).rejects.toThrow();
  await client.callTool({ name: 'ask_model', arguments: { question: 'What is the answer?' } });
  await client.callTool({ name: 'ask_user', arguments: {} });
  await client.callTool({ name: 'announce', arguments: {} });
  await client.listTools();
  await client.listResources();
  await client.listResourceTemplates();
  await client.readResource({ uri: 'file:///readme.md' });
  await client.readResource({ uri: 'items://7' });
  await client.listPrompts();
  await client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
  await client.setLoggingLevel('debug');
  await client.ping();
  const pid = transport.pid;
  await client.close();
  // The SDK's close does not wait for the process to exit: the tap records (or hands off) the session as it exits.
  await processGone(pid);
  return recorder.log;
}

/**
 * Progress after a cancellation races the cancel notification, so the count of late progress
 * notifications may differ between two runs; everything else must be identical.
 */
function withoutCancelledProgress(log: RecordedMessage[]): RecordedMessage[] {
  const cancelled = log.find((m) => 'method' in m.message && m.message.method === 'notifications/cancelled');
  const cancelledId = cancelled && 'params' in cancelled.message ? (cancelled.message.params as { requestId: unknown }).requestId : undefined;
  const request = log.find((m) => 'id' in m.message && 'method' in m.message && m.message.id === cancelledId);
  const token = request && 'params' in request.message ? (request.message.params as { _meta?: { progressToken?: unknown } })._meta?.progressToken : undefined;
  return log.filter((m) => !('method' in m.message && m.message.method === 'notifications/progress' && (m.message.params as { progressToken: unknown }).progressToken === token));
}

const shape = (m: JSONRPCMessage): string => {
  const id = 'id' in m ? String(m.id) : '-';
  const kind = 'method' in m ? ('id' in m ? 'request' : 'notification') : 'error' in m ? 'error' : 'response';
  return `${kind}:${id}:${'method' in m ? m.method : ''}`;
};

describe('stdio round trip: SDK client ↔ tap ↔ SDK server', () => {
  const { home, remove } = tempHome();
  let direct: RecordedMessage[];
  let tapped: RecordedMessage[];
  let events: McpEvent[];

  beforeAll(async () => {
    direct = await hostSession(new StdioClientTransport({ command: process.execPath, args: [SERVER], stderr: 'pipe' }));
    tapped = await hostSession(new StdioClientTransport({ command: process.execPath, args: tapArgv(home, 'sink', process.execPath, [SERVER]), stderr: 'pipe' }));
    events = await busEvents(home);
  });
  afterAll(remove);

  it('gives the client exactly what a direct connection gives', () => {
    expect(tapped.length).toBeGreaterThan(40);
    expect(withoutCancelledProgress(tapped)).toEqual(withoutCancelledProgress(direct));
  });

  it('records one schema-valid event per message, in order, per direction', () => {
    for (const event of events) expect(checkEvent(event).errors).toEqual([]);
    const messages = events.filter((e) => e.mcp.message);
    const sent = tapped.filter((m) => m.direction === 'sent').map((m) => shape(m.message));
    const received = tapped.filter((m) => m.direction === 'received').map((m) => shape(m.message));
    const eventShape = (e: McpEvent): string => `${e.mcp.message!.kind}:${e.jsonrpc?.request?.id ?? '-'}:${e.mcp.message!.kind === 'request' || e.mcp.message!.kind === 'notification' ? e.event.action : ''}`;
    expect(messages.filter((e) => e.mcp.direction === 'client_to_server').map(eventShape)).toEqual(sent);
    expect(messages.filter((e) => e.mcp.direction === 'server_to_client').map(eventShape)).toEqual(received);
    expect(events.map((e) => e.event.sequence)).toEqual(events.map((_, i) => i));
    expect(new Set(events.map((e) => e.mcp.session.id)).size).toBe(1);
  });

  it('frames the session with lifecycle events', () => {
    expect(events[0]!.event.action).toBe('session.start');
    expect(events[0]!.process?.pid).toBeGreaterThan(0);
    const end = events.at(-1)!;
    expect(end.event.action).toBe('session.end');
    expect(end.mcp.tap?.dropped).toBe(0);
    expect(end.mcp.tap?.events).toBe(events.length - 1);
  });

  it('correlates every response with its request', () => {
    const responses = events.filter((e) => e.mcp.message?.kind === 'response' || e.mcp.message?.kind === 'error');
    expect(responses.length).toBeGreaterThan(15);
    for (const r of responses) {
      expect(r.mcp.message?.correlated, `${r.event.id} ${r.event.action}`).toBe(true);
      expect(r.event.duration).toBeGreaterThanOrEqual(0);
    }
    const echo = responses.find((r) => r.gen_ai?.tool?.name === 'echo');
    expect(echo?.event.action).toBe('tools/call');
    expect(JSON.stringify(echo?.gen_ai?.tool?.call?.result)).toContain('hello through the tap');
    const sampling = responses.find((r) => r.event.action === 'sampling/createMessage');
    expect(sampling?.mcp.direction).toBe('client_to_server');
    const elicitation = responses.find((r) => r.event.action === 'elicitation/create');
    expect(elicitation?.mcp.direction).toBe('client_to_server');
  });

  it('captures identity, negotiation, tools, cancellation and progress', () => {
    const init = events.find((e) => e.event.action === 'initialize' && e.mcp.message?.kind === 'response')!;
    expect(init.mcp.server).toMatchObject({ name: 'sink', reported_name: 'kitchen-sink', version: '3.2.1' });
    expect(init.mcp.instructions).toContain('Test server');
    const version = init.mcp.protocol?.version;
    expect(version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(events.filter((e) => e.event.sequence > init.event.sequence && e.mcp.message).every((e) => e.mcp.protocol?.version === version)).toBe(true);
    expect(events.find((e) => e.event.action === 'initialize' && e.mcp.message?.kind === 'request')?.mcp.client?.name).toBe('roundtrip-host');

    const listings = events.filter((e) => e.event.action === 'tools/list' && e.mcp.message?.kind === 'response');
    expect(listings).toHaveLength(2);
    expect(listings[0]!.mcp.tools!.map((t) => t.name)).toEqual(['echo', 'slow', 'ask_model', 'ask_user', 'announce']);
    expect(listings[1]!.mcp.tools!.map((t) => t.name)).toContain('late_tool');
    for (const tool of listings[0]!.mcp.tools!) expect(tool.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(listings[1]!.mcp.tools!.find((t) => t.name === 'echo')!.hash).toBe(listings[0]!.mcp.tools!.find((t) => t.name === 'echo')!.hash);

    const cancel = events.find((e) => e.event.action === 'notifications/cancelled')!;
    expect(cancel.mcp.direction).toBe('client_to_server');
    expect(cancel.mcp.cancelled_request_id).toBeDefined();
    expect(events.some((e) => e.event.action === 'notifications/progress' && e.mcp.progress_token !== undefined)).toBe(true);
    expect(events.some((e) => e.event.action === 'notifications/tools/list_changed')).toBe(true);
    expect(events.find((e) => e.event.action === 'resources/read' && e.mcp.message?.kind === 'response')?.mcp.resource?.uri).toBe('file:///readme.md');
    expect(events.find((e) => e.event.action === 'prompts/get' && e.mcp.message?.kind === 'request')?.mcp.prompt?.name).toBe('greet');
  });
});
