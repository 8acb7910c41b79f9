import { writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { until } from '../support/until.js';
import { eventsOf, expectSchemaValid, httpOf } from './eventChecks.js';
import { startProxy, type ProxyProcess } from './proxyHarness.js';
import { startStreamableServer, type TestHttpServer } from './sdkHttpServers.js';

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** An upstream that misbehaves on purpose: cut SSE streams, endless streams, and a fast producer. */
class RawUpstream {
  readonly server: Server;
  url = '';
  /** Streams whose client went away before the stream ended. */
  abandoned = 0;
  /** Bytes the fast producer wrote, and whether it is waiting for its client to read. */
  produced = 0;
  blocked = false;

  /** Connections of /refuse-unread requests, held until closeRefused(). */
  readonly #refused: Socket[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      if (req.url === '/refuse-unread') return this.#refuseUnread(req, res);
      req.resume();
      req.on('end', () => this.#route(req.url ?? '', res));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * Answers 413 from the request's Content-Length before reading its body, and never reads it; the connection is
   * closed by closeRefused(), as a server whose drain of the unread body is cut short closes it (the SDK's does).
   */
  #refuseUnread(req: IncomingMessage, res: ServerResponse): void {
    // A 'data' listener on a paused request: Node would otherwise read and drop the body itself once the response ends.
    req.on('data', () => undefined).pause();
    this.#refused.push(req.socket);
    res.writeHead(413, { 'content-type': 'text/plain' }).end('refused unread');
  }

  /** Closes the connections of the refused requests, their bodies unread. */
  closeRefused(): void {
    for (const socket of this.#refused.splice(0)) socket.destroy();
  }

  #route(path: string, res: ServerResponse): void {
    const sse = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
    if (path === '/truncated') {
      res.writeHead(200, sse);
      res.write('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"whole"}}\n\n');
      res.end('event: message\ndata: {"jsonrpc":"2.0","id":1,"res');
    } else if (path === '/cut') {
      res.writeHead(200, sse);
      res.write('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"then the line drops"}}\n\n');
      setTimeout(() => res.socket?.destroy(), 20);
    } else if (path === '/endless') {
      res.writeHead(200, sse);
      const timer = setInterval(() => res.write('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}\n\n'), 10);
      res.on('close', () => {
        clearInterval(timer);
        if (!res.writableFinished) this.abandoned++;
      });
    } else if (path === '/firehose') {
      res.writeHead(200, sse);
      const line = Buffer.from(`data: ${'x'.repeat(64 * 1024 - 9)}\n\n`);
      const pump = (): void => {
        while (this.produced < 256 * 1024 * 1024) {
          this.produced += line.length;
          if (!res.write(line)) {
            this.blocked = true;
            res.once('drain', () => {
              this.blocked = false;
              pump();
            });
            return;
          }
        }
        res.end();
      };
      res.on('close', () => (this.blocked = false));
      pump();
    } else res.writeHead(404).end();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Reads a response body to its end, or to the error that cut it. */
async function readAll(response: Response): Promise<{ text: string; error?: string }> {
  let text = '';
  try {
    const reader = response.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { text };
      text += Buffer.from(value).toString('utf8');
    }
  } catch (error) {
    return { text, error: (error as Error).name };
  }
}

describe('bad input through the proxy: the client sees what the upstream gives, the tap records it', () => {
  const { home, remove } = tempHome();
  let sdk: TestHttpServer;
  let raw: RawUpstream;
  let proxy: ProxyProcess;
  let statuses: Record<string, { direct: number; proxied: number }>;
  let truncated: { direct: string; proxied: string };
  let cut: { direct: { text: string; error?: string }; proxied: { text: string; error?: string } };
  let events: McpEvent[];

  const sdkCase = async (name: string, init: RequestInit): Promise<void> => {
    const direct = await fetch(sdk.url, init);
    const proxied = await fetch(`${proxy.url}/sdk/mcp`, init);
    await direct.arrayBuffer();
    await proxied.arrayBuffer();
    statuses[name] = { direct: direct.status, proxied: proxied.status };
  };

  // One hook per step, so that a step that hangs is named by its hook's line.
  beforeAll(async () => {
    sdk = await startStreamableServer({ stateful: true, json: true });
    raw = new RawUpstream();
    await raw.listen();
    const config = `${home}/proxy.yaml`;
    writeFileSync(config, `routes:\n  - name: sdk\n    path: /sdk\n    upstream: ${sdk.url}\n  - name: raw\n    path: /raw\n    upstream: ${raw.url}/\nmax_body_bytes: ${128 * 1024 * 1024}\n`);
    proxy = await startProxy(['--config', config, '--home', home]);
  });
  beforeAll(async () => {
    statuses = {};
    await sdkCase('not json', { method: 'POST', headers: MCP_HEADERS, body: '{"jsonrpc":"2.0", this is not json' });
    await sdkCase('wrong content type', { method: 'POST', headers: { ...MCP_HEADERS, 'content-type': 'text/plain' }, body: JSON.stringify(INIT) });
    await sdkCase('no accept', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(INIT) });
    await sdkCase('empty body', { method: 'POST', headers: MCP_HEADERS, body: '' });
  });
  // The client writes the whole body into its connection, receives the 413 and reuses the connection for the next request.
  beforeAll(async () => {
    await sdkCase('10 MB body', { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify({ ...INIT, params: { ...INIT.params, padding: 'p'.repeat(10 * 1024 * 1024) } }) });
  });
  beforeAll(async () => {
    truncated = {
      direct: (await readAll(await fetch(`${raw.url}/truncated`, { method: 'POST' }))).text,
      proxied: (await readAll(await fetch(`${proxy.url}/raw/truncated`, { method: 'POST' }))).text,
    };
  });
  beforeAll(async () => {
    cut = {
      direct: await readAll(await fetch(`${raw.url}/cut`, { method: 'POST' })),
      proxied: await readAll(await fetch(`${proxy.url}/raw/cut`, { method: 'POST' })),
    };
  });
  afterAll(async () => {
    await proxy?.stop();
    await sdk?.close();
    await raw?.close();
    remove();
  });

  it('answers malformed requests with the upstream\'s own status codes', () => {
    expect(statuses).toEqual({
      'not json': { direct: 400, proxied: 400 },
      'wrong content type': { direct: 415, proxied: 415 },
      'no accept': { direct: 406, proxied: 406 },
      'empty body': { direct: 400, proxied: 400 },
      '10 MB body': { direct: 413, proxied: 413 },
    });
  });

  it('passes a truncated event stream through byte for byte, and a dropped connection as a dropped connection', () => {
    expect(truncated.proxied).toBe(truncated.direct);
    expect(cut.proxied.text).toBe(cut.direct.text);
    expect(cut.direct.error).toBeDefined();
    expect(cut.proxied.error).toBe(cut.direct.error);
  });

  it('reads the rest of a request the upstream answered unread and hung up on, and answers the next request on the connection', async () => {
    // 64 MiB (under this proxy's limit) cannot all wait in socket buffers while the upstream reads nothing: the proxy
    // stops reading it, and the client waits to write the rest.
    const bodyBytes = 64 * 1024 * 1024;
    const client = connect(Number(new URL(proxy.url).port), '127.0.0.1');
    let received = '';
    let waitingToWrite = false;
    let sentAll = false;
    client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    client.on('error', () => undefined);
    const write = async (data: string | Buffer): Promise<void> => {
      if (client.write(data)) return;
      waitingToWrite = true;
      await new Promise((resolve) => client.once('drain', resolve));
      waitingToWrite = false;
    };
    void (async () => {
      await write(`POST /raw/refuse-unread HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${bodyBytes}\r\n\r\n`);
      const chunk = Buffer.alloc(1024 * 1024, 'b');
      for (let sent = 0; sent < bodyBytes; sent += chunk.length) await write(chunk);
      // The next request, on the same connection, as a client that reused it would send it.
      await write('POST /raw/truncated HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n');
      sentAll = true;
    })();
    await until(() => received.includes('refused unread') && waitingToWrite, () => `the 413 while the body waits to be read; received:\n${received}`);
    raw.closeRefused();
    await until(() => sentAll, 'the proxy to read the rest of the body once the upstream closed');
    await until(() => received.includes('"id":1,"res'), () => `the answer to the next request; received:\n${received}`);
    client.destroy();
    // The upstream's answer to each request, in order, on the one connection.
    expect(received.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 413', 'HTTP/1.1 200']);
  });

  it('stops the upstream stream when the client disconnects mid-stream', async () => {
    const before = raw.abandoned;
    const abort = new AbortController();
    const response = await fetch(`${proxy.url}/raw/endless`, { method: 'POST', signal: abort.signal });
    const reader = response.body!.getReader();
    await reader.read();
    abort.abort();
    await until(() => raw.abandoned > before, 'the upstream to see the client leave');
  });

  it('holds back a fast upstream while its client does not read (backpressure), and lets it go when the client leaves', async () => {
    const socketDone = new Promise<void>((resolve) => {
      const req = request(`${proxy.url}/raw/firehose`, { method: 'POST' }, (res) => {
        // The client never reads: only socket and stream buffers may fill, not the proxy's memory.
        res.pause();
        void until(() => raw.blocked, 'the upstream to block').then(async () => {
          await new Promise((r) => setTimeout(r, 200));
          expect(raw.blocked).toBe(true);
          expect(raw.produced).toBeLessThan(32 * 1024 * 1024);
          res.destroy();
          resolve();
        });
      });
      req.end();
    });
    await socketDone;
    await until(() => !raw.blocked, 'the upstream stream to be released');
  });

  it('records the bad messages as unparsed events and the cut streams as errors', async () => {
    await proxy.stop();
    events = await busEvents(home);
    expectSchemaValid(events);
    const sdkEvents = eventsOf(events, 'sdk');
    const unparsed = sdkEvents.filter((e) => e.mcp.message?.kind === 'unparsed' && e.mcp.direction === 'client_to_server');
    expect(unparsed.slice(0, 2).map((e) => e.mcp.message!.parse_error)).toEqual([expect.stringMatching(/JSON/), 'empty frame']);
    expect(unparsed[0]!.mcp.message!.excerpt).toBe('{"jsonrpc":"2.0", this is not json');
    // The upstream refuses the 10 MB body from its Content-Length; the client stops sending it when the 413
    // arrives, which may be before or after the last byte (socket buffers decide): a cut excerpt or a whole, bounded request.
    const big = sdkEvents.find((e) => e.mcp.direction === 'client_to_server' && httpOf(e).response!.status_code === 413);
    expect(big?.mcp.message?.truncated).toBe(true);
    if (big?.mcp.message?.kind === 'unparsed') expect(big.mcp.message).toMatchObject({ parse_error: 'the client closed the connection during its request', excerpt: expect.stringMatching(/^\{"jsonrpc":"2.0","id":1,"method":"initialize"/) });
    else expect(big?.event.action).toBe('initialize');
    const rejections = sdkEvents.filter((e) => e.mcp.message?.kind === 'error').map((e) => httpOf(e).response!.status_code);
    expect(rejections).toEqual([400, 415, 406, 400, 413]);

    const rawEvents = eventsOf(events, 'raw');
    const whole = rawEvents.find((e) => e.event.action === 'notifications/message');
    expect(whole?.mcp.params).toMatchObject({ data: 'whole' });
    const tail = rawEvents.find((e) => e.mcp.message?.kind === 'unparsed' && e.mcp.direction === 'server_to_client');
    expect(tail?.mcp.message).toMatchObject({ parse_error: 'the event stream ended inside an event', excerpt: 'data: {"jsonrpc":"2.0","id":1,"res' });
    const errors = rawEvents.filter((e) => e.event.action === 'http.error').map((e) => e.message);
    expect(errors).toContain('exchange cut: upstream closed the connection mid-response');
    expect(errors).toContain('exchange cut: client closed the connection');
  });
});
