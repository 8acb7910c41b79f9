/**
 * Real MCP traffic from @modelcontextprotocol/sdk clients and servers, recorded at the client's transport
 * and normalized: what a tap would see, produced by the reference implementation rather than by hand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Direction } from '../../collectors/normalizer.js';
import { toolHash } from '../../pipeline/toolHash.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { stdioIdentity, TestSession } from './fixtures.js';

/** Wraps a client transport so every message in either direction also goes, as its JSON line, to `record`. */
class RecordingTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];

  constructor(
    private readonly inner: Transport,
    private readonly record: (direction: Direction, line: string) => void,
  ) {}

  async start(): Promise<void> {
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onmessage = (message: JSONRPCMessage, extra) => {
      this.record('server_to_client', JSON.stringify(message));
      this.onmessage?.(message, extra);
    };
    await this.inner.start();
  }

  async send(message: JSONRPCMessage, options?: Parameters<Transport['send']>[1]): Promise<void> {
    this.record('client_to_server', JSON.stringify(message));
    await this.inner.send(message, options);
  }

  async close(): Promise<void> {
    await this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }
}

function recorder(session: TestSession): { events: McpEvent[]; record: (direction: Direction, line: string) => void } {
  const events: McpEvent[] = [];
  return { events, record: (direction, line) => events.push(...session.frame(direction, line, 1)) };
}

const byAction = (events: McpEvent[], action: string, kind: string) => events.filter((e) => e.event.action === action && e.mcp.message?.kind === kind);

describe('SDK client and server over an in-memory transport', () => {
  it('normalizes every exchange of a full session, both directions, all correlated', async () => {
    const server = new McpServer({ name: 'demo-server', version: '1.4.0', title: 'Demo' }, { capabilities: { logging: {} }, instructions: 'Use add for sums.' });
    server.registerTool(
      'add',
      { title: 'Add', description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() }, outputSchema: { sum: z.number() }, annotations: { readOnlyHint: true } },
      async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } }),
    );
    server.registerTool('ask', { description: 'Asks the model and the user', inputSchema: {} }, async () => {
      const sampled = await server.server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 10 });
      const answer = await server.server.elicitInput({ mode: 'form', message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } });
      const roots = await server.server.listRoots();
      await server.sendLoggingMessage({ level: 'info', data: 'asked' });
      return { content: [{ type: 'text', text: `${JSON.stringify(sampled.content)} ${answer.action} ${roots.roots.length}` }] };
    });
    server.registerTool('broken', { description: 'Always fails', inputSchema: {} }, async () => {
      throw new Error('kaput');
    });
    server.registerResource('readme', 'file:///readme.md', { title: 'Readme', mimeType: 'text/markdown' }, async (uri) => ({ contents: [{ uri: uri.href, text: '# hi' }] }));
    server.registerResource(
      'user',
      new ResourceTemplate('users://{id}', { list: undefined, complete: { id: () => ['alice', 'bob'] } }),
      { description: 'A user' },
      async (uri) => ({ contents: [{ uri: uri.href, text: 'user' }] }),
    );
    server.registerPrompt('greet', { title: 'Greet', description: 'Greets', argsSchema: { who: z.string() } }, ({ who }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Hello ${who}` } }],
    }));

    const session = new TestSession(stdioIdentity({ serverName: undefined }));
    const { events, record } = recorder(session);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'test-client', version: '0.0.1' }, { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: 'hello' }, model: 'test-model' }));
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work', name: 'work' }] }));
    await client.connect(new RecordingTransport(clientSide, record));

    const listed = await client.listTools();
    await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    await client.callTool({ name: 'ask', arguments: {} });
    await client.callTool({ name: 'broken', arguments: {} });
    await client.listResources();
    await client.listResourceTemplates();
    await client.readResource({ uri: 'file:///readme.md' });
    await client.listPrompts();
    await client.getPrompt({ name: 'greet', arguments: { who: 'Ada' } });
    await client.complete({ ref: { type: 'ref/resource', uri: 'users://{id}' }, argument: { name: 'id', value: 'a' } });
    await client.setLoggingLevel('debug');
    await client.ping();
    await client.sendRootsListChanged();
    await client.close();

    expect(events.filter((e) => e.mcp.message?.kind === 'unparsed')).toEqual([]);
    const responses = events.filter((e) => e.mcp.message?.kind === 'response' || e.mcp.message?.kind === 'error');
    expect(responses.every((e) => e.mcp.message?.correlated === true)).toBe(true);
    expect(responses.length).toBe(events.filter((e) => e.mcp.message?.kind === 'request').length);

    const [initResult] = byAction(events, 'initialize', 'response');
    expect(initResult?.mcp.protocol?.version).toBe(session.normalizer.protocolVersion);
    expect(initResult?.mcp.instructions).toBe('Use add for sums.');
    expect(initResult?.mcp.server).toMatchObject({ name: 'demo-server', reported_name: 'demo-server', version: '1.4.0', title: 'Demo' });
    expect(byAction(events, 'initialize', 'request')[0]?.mcp.client).toEqual({ name: 'test-client', version: '0.0.1' });
    expect(events.at(-1)?.mcp.client?.name).toBe('test-client');

    const tools = byAction(events, 'tools/list', 'response')[0]?.mcp.tools ?? [];
    expect(tools.map((t) => t.name)).toEqual(listed.tools.map((t) => t.name));
    const add = listed.tools.find((t) => t.name === 'add');
    expect(tools.find((t) => t.name === 'add')?.hash).toBe(toolHash(add as NonNullable<typeof add>));
    expect(tools.find((t) => t.name === 'add')?.annotations).toEqual({ readOnlyHint: true });

    const calls = byAction(events, 'tools/call', 'response');
    expect(calls.map((e) => [e.gen_ai?.tool?.name, e.event.outcome])).toEqual([
      ['add', 'success'],
      ['ask', 'success'],
      ['broken', 'failure'],
    ]);
    expect(calls[0]?.gen_ai?.tool?.call?.result).toMatchObject({ structuredContent: { sum: 5 } });

    for (const method of ['sampling/createMessage', 'elicitation/create', 'roots/list']) {
      expect(byAction(events, method, 'request')[0]?.mcp.direction, method).toBe('server_to_client');
      expect(byAction(events, method, 'response')[0]?.mcp.direction, method).toBe('client_to_server');
    }
    expect(byAction(events, 'notifications/message', 'notification')[0]?.mcp.params).toEqual({ level: 'info', data: 'asked' });
    expect(byAction(events, 'resources/templates/list', 'response')[0]?.mcp.resources).toEqual([{ uri_template: 'users://{id}', name: 'user', description: 'A user' }]);
    expect(byAction(events, 'resources/read', 'response')[0]?.mcp.resource?.uri).toBe('file:///readme.md');
    expect(byAction(events, 'prompts/get', 'response')[0]?.mcp.prompt?.name).toBe('greet');
    expect(byAction(events, 'completion/complete', 'request')[0]?.mcp.resource?.uri).toBe('users://{id}');
    expect(byAction(events, 'logging/setLevel', 'request')[0]?.event.category).toEqual(['configuration']);
    expect(byAction(events, 'notifications/roots/list_changed', 'notification')).toHaveLength(1);
    expect(events.map((e) => e.event.sequence)).toEqual(events.map((_, i) => i));
  });
});

describe('a real third-party server over stdio', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-sdk-traffic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('normalizes @modelcontextprotocol/server-memory: inventory with hashes, tool calls with arguments', async () => {
    const entry = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-memory/dist/index.js');
    const session = new TestSession(stdioIdentity({ serverName: 'memory' }));
    const { events, record } = recorder(session);
    const transport = new StdioClientTransport({ command: process.execPath, args: [entry], env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') }, stderr: 'ignore' });
    const client = new Client({ name: 'tapwire-test', version: '1.0.0' });
    await client.connect(new RecordingTransport(transport, record));
    const listed = await client.listTools();
    await client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'Ada', entityType: 'person', observations: ['api_key=abc123'] }] } });
    await client.callTool({ name: 'read_graph', arguments: {} });
    await client.close();

    const inventory = byAction(events, 'tools/list', 'response')[0]?.mcp.tools ?? [];
    expect(inventory.length).toBeGreaterThan(3);
    expect(inventory.map((t) => [t.name, t.hash])).toEqual(listed.tools.map((t) => [t.name, toolHash(t)]));
    const create = byAction(events, 'tools/call', 'request')[0];
    expect(create?.gen_ai?.tool?.name).toBe('create_entities');
    expect(JSON.stringify(create?.gen_ai?.tool?.call?.arguments)).toMatch(/api_key=\[REDACTED:secret:[0-9a-f]{8}\]/);
    expect(JSON.stringify(events)).not.toContain('abc123');
    expect(byAction(events, 'tools/call', 'response').every((e) => e.mcp.message?.correlated && e.event.outcome === 'success')).toBe(true);
    expect(events[0]?.mcp.server.name).toBe('memory');
  });
});
