/**
 * Real MCP SDK servers on 127.0.0.1 for the HTTP tap's tests: Streamable HTTP (stateful or stateless,
 * SSE or JSON responses, optionally resumable with an event store) and the legacy HTTP+SSE transport.
 * All listen on port 0 and close every connection on close().
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport, type EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** A running test server. */
export interface TestHttpServer {
  /** The MCP endpoint (Streamable HTTP) or the SSE stream URL (legacy). */
  url: string;
  /** Forgets a session, as a server does when it expires one: its next request gets 404. */
  expire(sessionId: string): Promise<void>;
  close(): Promise<void>;
}

/** A server with the tools the tests exercise: echo, sampling, elicitation, progress, a stream cut, and GET-stream notifications. */
export function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'http-kitchen', version: '1.4.0' }, { capabilities: { logging: {} }, instructions: 'HTTP test server.' });
  server.registerTool('echo', { description: 'Echoes text back.', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('slow', { description: 'Reports progress.', inputSchema: { steps: z.number().int() } }, async ({ steps }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
      await new Promise((r) => setTimeout(r, 5));
    }
    return { content: [{ type: 'text', text: `done after ${steps} steps` }] };
  });
  server.registerTool('ask_model', { description: 'Sampling.', inputSchema: { question: z.string() } }, async ({ question }, extra) => {
    const reply = await extra.sendRequest(
      { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: question } }], maxTokens: 50 } },
      z.object({ content: z.object({ type: z.string(), text: z.string().optional() }) }).passthrough(),
    );
    return { content: [{ type: 'text', text: `model said: ${reply.content.text ?? '?'}` }] };
  });
  server.registerTool('ask_user', { description: 'Elicitation.', inputSchema: {} }, async (_args, extra) => {
    const answer = await extra.sendRequest(
      { method: 'elicitation/create', params: { message: 'Which environment?', requestedSchema: { type: 'object', properties: { env: { type: 'string', enum: ['dev', 'prod'] } }, required: ['env'] } } },
      z.object({ action: z.string(), content: z.record(z.string(), z.unknown()).optional() }).passthrough(),
    );
    return { content: [{ type: 'text', text: `user chose ${answer.action}:${JSON.stringify(answer.content ?? {})}` }] };
  });
  server.registerTool('announce', { description: 'Sends a log message on the GET stream after answering.', inputSchema: { text: z.string() } }, async ({ text }) => {
    // Outside the request's context, so the SDK routes it to the standalone GET stream.
    setTimeout(() => void server.server.sendLoggingMessage({ level: 'info', data: text }).catch(() => undefined), 20);
    return { content: [{ type: 'text', text: 'announced' }] };
  });
  server.registerTool('interrupted', { description: 'Cuts its SSE stream, then answers on the resumed stream.', inputSchema: {} }, async (_args, extra) => {
    await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'before the cut' } });
    extra.closeSSEStream?.();
    await new Promise((r) => setTimeout(r, 50));
    await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'after the cut' } });
    return { content: [{ type: 'text', text: 'survived the cut' }] };
  });
  return server;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
}

/**
 * A resumability event store whose ids sort in storage order (the SDK's example store orders events stored
 * within one millisecond at random, so its replays are not repeatable).
 */
export class OrderedEventStore implements EventStore {
  readonly #events: { id: string; streamId: string; message: JSONRPCMessage }[] = [];
  #next = 0;

  /** Stores a message and returns its id: `<stream>_<sequence>`. */
  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}_${String(this.#next++).padStart(8, '0')}`;
    this.#events.push({ id, streamId, message });
    return id;
  }

  /** Sends the stream's events stored after `lastEventId`, in order; returns the stream id. */
  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const last = this.#events.find((e) => e.id === lastEventId);
    if (!last) return '';
    for (const event of this.#events) {
      if (event.streamId === last.streamId && event.id > lastEventId) await send(event.id, event.message);
    }
    return last.streamId;
  }
}

/** Options of a Streamable HTTP test server. */
export interface StreamableOptions {
  stateful: boolean;
  json: boolean;
  /** Resumable: an event store, priming events and this retry interval (ms). */
  resumable?: { retryMs: number; store?: EventStore };
  /** Answers a request before the MCP transport sees it (auth gates, discovery documents); true when it did. */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** A Streamable HTTP server at /mcp, one McpServer per session (stateful) or per request (stateless). */
export async function startStreamableServer(options: StreamableOptions): Promise<TestHttpServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const store = options.resumable ? (options.resumable.store ?? new OrderedEventStore()) : undefined;
  const transportOptions = {
    enableJsonResponse: options.json,
    ...(store ? { eventStore: store, retryInterval: options.resumable!.retryMs } : {}),
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.intercept?.(req, res)) return;
    if (!req.url?.startsWith('/mcp')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      return;
    }
    if (!options.stateful) {
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, ...transportOptions });
      const server = buildMcpServer();
      res.on('close', () => void transport.close().then(() => server.close()));
      await server.connect(transport);
      await transport.handleRequest(req, res);
      return;
    }
    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      const transport = sessions.get(id);
      if (!transport) return notFound(res);
      await transport.handleRequest(req, res);
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
      onsessionclosed: (sessionId) => void sessions.delete(sessionId),
      ...transportOptions,
    });
    await buildMcpServer().connect(transport);
    await transport.handleRequest(req, res);
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500).end(error.message);
    });
  });
  const origin = await listen(http);
  return {
    url: `${origin}/mcp`,
    expire: async (sessionId) => {
      const transport = sessions.get(sessionId);
      sessions.delete(sessionId);
      await transport?.close();
    },
    close: async () => {
      for (const transport of sessions.values()) await transport.close();
      await closeServer(http);
    },
  };
}

/** A legacy HTTP+SSE server: GET /sse opens the stream, POST /messages?sessionId=… carries client messages. */
export async function startLegacySseServer(): Promise<TestHttpServer> {
  const sessions = new Map<string, SSEServerTransport>();
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/sse') {
      const transport = new SSEServerTransport('/messages', res);
      sessions.set(transport.sessionId, transport);
      res.on('close', () => sessions.delete(transport.sessionId));
      void buildMcpServer().connect(transport);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/messages') {
      const transport = sessions.get(url.searchParams.get('sessionId') ?? '');
      if (!transport) {
        res.writeHead(404).end('Unknown session');
        return;
      }
      void transport.handlePostMessage(req, res);
      return;
    }
    res.writeHead(404).end('not here');
  });
  const origin = await listen(http);
  return {
    url: `${origin}/sse`,
    expire: async (sessionId) => {
      await sessions.get(sessionId)?.close();
    },
    close: async () => {
      for (const transport of sessions.values()) await transport.close();
      await closeServer(http);
    },
  };
}
