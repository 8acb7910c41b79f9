import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { eventsOf, expectSchemaValid, httpOf, urlOf } from './eventChecks.js';
import { startProxy, type ProxyProcess } from './proxyHarness.js';

/** An upstream that answers every request with what it received (method, target, raw headers, body size). */
function echoHandler(seen: string[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/hang') return;
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.rawHeaders, bytes });
      res.writeHead(200, ['Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(body)), 'Connection', 'X-Up-Hop', 'X-Up-Hop', 'secret-route-info', 'Proxy-Authenticate', 'Basic', 'X-End', 'kept']);
      res.end(body);
    });
  };
}

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Sends raw bytes and returns the status line and body of the answer. */
function rawRequest(proxyUrl: string, text: string): Promise<string> {
  const { hostname, port } = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
  });
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
}

describe('the proxy forwards only to its configured upstreams, and fails safely', () => {
  const { home, remove } = tempHome();
  const seen: string[] = [];
  let upstream: Server;
  let upstreamAddress: string;
  let proxy: ProxyProcess;
  let events: McpEvent[];

  beforeAll(async () => {
    upstream = createServer(echoHandler(seen));
    const address = await listening(upstream);
    upstreamAddress = address;
    const closed = createServer();
    const deadAddress = await listening(closed);
    await new Promise((resolve) => closed.close(resolve));
    const config = join(home, 'proxy.yaml');
    writeFileSync(
      config,
      [
        'max_body_bytes: 1024',
        'upstream_timeout_ms: 300',
        'routes:',
        `  - { name: echo, path: /echo, upstream: "http://${address}/mcp" }`,
        `  - { name: dead, path: /dead, upstream: "http://${deadAddress}/mcp" }`,
        '',
      ].join('\n'),
    );
    proxy = await startProxy(['--config', config, '--home', home]);
  });
  afterAll(async () => {
    await proxy?.stop();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
    remove();
  });

  it('refuses absolute-form targets, CONNECT, unknown paths and dot-segments without contacting anything', async () => {
    const before = seen.length;
    const answers = {
      absolute: await rawRequest(proxy.url, 'GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n\r\n'),
      connect: await rawRequest(proxy.url, 'CONNECT 10.0.0.1:22 HTTP/1.1\r\nHost: 10.0.0.1:22\r\n\r\n'),
      unknownPath: await rawRequest(proxy.url, 'GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      dotSegments: await rawRequest(proxy.url, 'GET /echo/../admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      encodedDots: await rawRequest(proxy.url, 'GET /echo/%2E%2e/admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    };
    expect(Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, statusOf(v)]))).toEqual({ absolute: 400, connect: 405, unknownPath: 404, dotSegments: 400, encodedDots: 400 });
    expect(answers.absolute).toContain('"jsonrpc":"2.0"');
    expect(seen.length).toBe(before);
  });

  it('sends the upstream its own Host, whatever Host the client names', async () => {
    const answer = (await (await fetch(`${proxy.url}/echo/mcp`, { headers: { host: '169.254.169.254' } })).json()) as { headers: string[]; url: string };
    expect(answer.url).toBe('/mcp');
    expect(answer.headers[answer.headers.findIndex((h) => h.toLowerCase() === 'host') + 1]).toBe(upstreamAddress);
  });

  it('drops hop-by-hop headers in both directions (RFC 9110 §7.6.1) and keeps end-to-end ones', async () => {
    const raw = await rawRequest(
      proxy.url,
      [
        'POST /echo/mcp HTTP/1.1',
        'Host: x',
        'Connection: close, X-Hop',
        'X-Hop: private',
        'Keep-Alive: timeout=5',
        'Proxy-Authorization: Basic c2VjcmV0',
        'TE: trailers',
        'Authorization: Bearer end-to-end-token-123',
        'Cookie: a=1',
        'Cookie: b=2',
        'Content-Length: 2',
        '',
        '{}',
      ].join('\r\n'),
    );
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { headers: string[] };
    const names = body.headers.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
    for (const dropped of ['x-hop', 'keep-alive', 'proxy-authorization', 'te']) expect(names).not.toContain(dropped);
    expect(names.filter((n) => n === 'cookie')).toHaveLength(2);
    expect(names).toContain('authorization');
    const responseHeaders = raw.slice(0, raw.indexOf('\r\n\r\n')).toLowerCase();
    expect(responseHeaders).not.toContain('x-up-hop');
    expect(responseHeaders).not.toContain('proxy-authenticate');
    expect(responseHeaders).toContain('x-end: kept');
  });

  it('answers 413 with a JSON-RPC error for bodies over the limit, declared or streamed', async () => {
    const declared = await fetch(`${proxy.url}/echo/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(2048) });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringContaining('1024 bytes') } });
    const chunks = [Buffer.alloc(800, 'a'), Buffer.alloc(800, 'b')];
    const streamed = await fetch(`${proxy.url}/echo/mcp`, {
      method: 'POST',
      body: new ReadableStream({ pull: (controller) => (chunks.length ? controller.enqueue(chunks.shift()!) : controller.close()) }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('answers 502 when the upstream is down and 504 when it does not answer, with JSON-RPC errors', async () => {
    const down = await fetch(`${proxy.url}/dead/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":7,"method":"tools/list"}' });
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringContaining('ECONNREFUSED') } });
    const hung = await fetch(`${proxy.url}/echo/hang`);
    expect(hung.status).toBe(504);
    expect(await hung.json()).toMatchObject({ error: { message: expect.stringContaining('no response within 300 ms') } });
  });

  it('records refusals on the proxy\'s own session and failures on the route\'s', async () => {
    await proxy.stop();
    events = await busEvents(home);
    expectSchemaValid(events);
    const refused = eventsOf(events, 'tapwire-proxy').filter((e) => e.event.action === 'http.rejected');
    expect(refused.map((e) => httpOf(e).response!.status_code)).toEqual([400, 405, 404, 400, 400]);
    expect(urlOf(refused[0]!).original).toBe('http://169.254.169.254/latest/meta-data');
    const failures = [...eventsOf(events, 'echo'), ...eventsOf(events, 'dead')].filter((e) => e.event.action === 'http.error');
    expect(failures.map((e) => httpOf(e).response!.status_code).sort()).toEqual([413, 413, 502, 504]);
    const deadCall = eventsOf(events, 'dead').find((e) => e.event.action === 'tools/list');
    expect(httpOf(deadCall).response!.status_code).toBe(502);
  });
});

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A CA and a certificate for 127.0.0.1 signed by it, made with the openssl command. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tapwire test CA');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { ca: readFileSync(ca) }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe.skipIf(!haveOpenssl())('TLS: an https listener in front of an https upstream with a private CA', () => {
  const { home, remove } = tempHome();
  const seen: string[] = [];
  let upstream: Server;
  let trusting: ProxyProcess;
  let untrusting: ProxyProcess;
  let files: { ca: string; cert: string; key: string };

  beforeAll(async () => {
    files = makeCertificates(home);
    upstream = createHttpsServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, echoHandler(seen));
    const address = await listening(upstream);
    const tls = `tls: { cert: server.pem, key: server.key }\n`;
    writeFileSync(join(home, 'trusting.yaml'), `${tls}upstream_ca: ca.pem\nroutes:\n  - { name: secure, upstream: "https://${address}/mcp" }\n`);
    writeFileSync(join(home, 'untrusting.yaml'), `${tls}routes:\n  - { name: secure, upstream: "https://${address}/mcp" }\n`);
    trusting = await startProxy(['--config', join(home, 'trusting.yaml'), '--home', home]);
    untrusting = await startProxy(['--config', join(home, 'untrusting.yaml'), '--home', home]);
  });
  afterAll(async () => {
    await trusting?.stop();
    await untrusting?.stop();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
    remove();
  });

  it('serves clients over TLS and verifies the upstream against the configured CA', async () => {
    expect(trusting.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await httpsGet(`${trusting.url}/mcp`, files.ca);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ method: 'GET', url: '/mcp' });
  });

  it('refuses an upstream whose certificate it cannot verify, with 502', async () => {
    const answer = await httpsGet(`${untrusting.url}/mcp`, files.ca);
    expect(answer.status).toBe(502);
    expect(answer.body).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|unable to verify/i);
  });
});
