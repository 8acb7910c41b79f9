/**
 * Requests Node's HTTP parser refuses before the proxy's handler sees them — request-smuggling shapes, malformed
 * chunking, oversized headers — are answered with an error and recorded as http.rejected with the reason, like the
 * route table's refusals; none reaches the upstream.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { startRecordingHttpServer, type RecordingHttpServer } from '../support/recordingHttpServer.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { startProxy } from './proxyHarness.js';

/** Sends raw bytes to the proxy and resolves with everything it answers before closing the connection. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.end(bytes);
  });
}

const CASES = {
  'Content-Length with Transfer-Encoding (smuggling)': 'POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n',
  'two Content-Length values (smuggling)': 'POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello',
  'malformed chunk size': 'POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
  'oversized headers': `POST /mcp HTTP/1.1\r\nHost: a\r\nX-Padding: ${'p'.repeat(40_000)}\r\nContent-Length: 0\r\n\r\n`,
};

describe('HTTP parser refusals at the proxy', () => {
  const { home, remove } = tempHome();
  let upstream: RecordingHttpServer;
  const answers: Record<string, string> = {};
  let rejected: McpEvent[];

  beforeAll(async () => {
    upstream = await startRecordingHttpServer(() => ({ body: { jsonrpc: '2.0', id: 1, result: {} } }));
    const proxy = await startProxy(['--upstream', upstream.url, '--name', 'parser', '--home', home]);
    for (const [name, bytes] of Object.entries(CASES)) answers[name] = await rawExchange(proxy.url, bytes);
    expect(await proxy.stop()).toBe(0);
    rejected = (await busEvents(home)).filter((e) => e.event.action === 'http.rejected');
  });
  afterAll(async () => {
    await upstream?.close();
    remove();
  });

  it('answers each with an error status and forwards none', () => {
    expect(answers['oversized headers']).toMatch(/^HTTP\/1\.1 431 /);
    for (const name of Object.keys(CASES).filter((n) => n !== 'oversized headers')) expect(answers[name], name).toMatch(/^HTTP\/1\.1 400 /);
    expect(upstream.requests).toEqual([]);
  });

  it('records each as http.rejected with the parser reason', () => {
    expect(rejected).toHaveLength(Object.keys(CASES).length);
    const reasons = rejected.map((e) => e.message ?? '');
    expect(reasons.every((r) => r.includes('the HTTP parser refused the request (HPE_'))).toBe(true);
    expect(reasons.some((r) => r.includes('HPE_HEADER_OVERFLOW'))).toBe(true);
    expect(reasons.some((r) => r.includes('HPE_INVALID_CHUNK_SIZE'))).toBe(true);
    expect(rejected.every((e) => e.event.outcome === 'failure')).toBe(true);
  });
});
