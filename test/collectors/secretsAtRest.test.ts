/**
 * No secret at rest, no over-redaction: a generated corpus (secretCorpus.ts) goes through the real stdio tap and
 * the real HTTP proxy; afterwards no planted secret may appear in any file under the home (bus, store, WAL,
 * hand-off, spool) or in the collectors' stderr, and ordinary values must come through unchanged.
 *
 * Figures (README, redaction section) are printed by this test: planted, found at rest, ordinary values altered.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { startProxy } from '../http/proxyHarness.js';
import { startRecordingHttpServer, type RecordingHttpServer } from '../support/recordingHttpServer.js';
import { busEvents, FIXTURES, runCli, tempHome } from '../support/tapwireCli.js';
import { carrierFor, FAMILIES, ordinaryValues } from './secretCorpus.js';

const PER_FAMILY = 4;

interface Plant {
  family: string;
  carrier: string;
  secret: string;
  /** What must not be found at rest: the secret, and the encoded run that carried it. */
  needles: string[];
  line: string;
}

function plants(): Plant[] {
  let n = 0;
  return Object.entries(FAMILIES).flatMap(([family, make]) =>
    Array.from({ length: PER_FAMILY }, () => {
      const secret = make();
      const carrier = carrierFor(family, n);
      const { id, params } = carrier.request(secret, n);
      const line = JSON.stringify({ jsonrpc: '2.0', id: id ?? n, method: 'tools/call', params });
      const blob = (params.arguments as Record<string, unknown>).blob;
      n++;
      return { family, carrier: carrier.name, secret, needles: [secret, ...(typeof blob === 'string' ? [blob] : [])], line };
    }),
  );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : statSync(path).isFile() ? [path] : [];
  });
}

describe('secrets at rest and ordinary values, through the tap and the proxy', () => {
  const { home, remove } = tempHome();
  const planted = plants();
  const ordinary = ordinaryValues();
  let upstream: RecordingHttpServer;
  const logs: string[] = [];
  let events: McpEvent[] = [];

  beforeAll(async () => {
    const tapHome = join(home, 'tap');
    const tap = await runCli(['tap', '--name', 'corpus', '--home', tapHome, '--', process.execPath, join(FIXTURES, 'echoServer.mjs')], {
      input: planted.map((p) => `${p.line}\n`).join('') + ordinary.map((args, i) => `${JSON.stringify({ jsonrpc: '2.0', id: `o${i}`, method: 'tools/call', params: { name: 'echo', arguments: args } })}\n`).join(''),
      timeoutMs: 300_000,
    });
    expect(tap.code, tap.stderr).toBe(0);
    logs.push(tap.stderr);

    // The upstream answers every JSON-RPC request with its params, as the stdio echo server does.
    upstream = await startRecordingHttpServer((request) => {
      const message = JSON.parse(request.body.toString()) as { id: unknown; params: unknown };
      return { body: { jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text: JSON.stringify(message.params) }] } } };
    });
    const proxyHome = join(home, 'proxy');
    const proxy = await startProxy(['--upstream', upstream.url, '--name', 'corpus-http', '--home', proxyHome]);
    for (const [i, plant] of planted.entries()) {
      const response = await fetch(`${proxy.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(i % 3 === 0 ? { authorization: `Bearer ${plant.secret}` } : {}) },
        body: plant.line,
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    expect(await proxy.stop()).toBe(0);
    logs.push(proxy.stderr());
    // The query commands record hand-offs and fill the store: every file a home can hold exists now.
    for (const h of [tapHome, proxyHome]) {
      const status = await runCli(['status', '--home', h], { timeoutMs: 300_000 });
      expect(status.code, status.stderr).toBe(0);
      logs.push(status.stderr);
    }
    events = await busEvents(tapHome);
  }, 600_000);
  afterAll(async () => {
    await upstream?.close();
    remove();
  });

  it(`finds none of ${Object.keys(FAMILIES).length * PER_FAMILY} planted secrets of ${Object.keys(FAMILIES).length} families in any file under the home, or in the logs`, () => {
    const files = filesUnder(home);
    expect(files.some((f) => f.endsWith('bus.sqlite'))).toBe(true);
    expect(files.some((f) => f.endsWith('store.sqlite'))).toBe(true);
    const contents = files.map((f) => ({ file: f, bytes: readFileSync(f) }));
    const found = planted.flatMap((plant) =>
      plant.needles.flatMap((needle) => [
        ...contents.filter((c) => c.bytes.includes(needle)).map((c) => `${plant.family} via ${plant.carrier} in ${c.file}`),
        ...logs.filter((log) => log.includes(needle)).map(() => `${plant.family} via ${plant.carrier} in a log`),
      ]),
    );
    process.stdout.write(`redaction corpus: ${planted.length} secrets planted across ${Object.keys(FAMILIES).length} families, ${found.length} found at rest\n`);
    expect(planted.length).toBeGreaterThanOrEqual(150);
    expect(found).toEqual([]);
  });

  it(`alters at most 2% of ${ordinaryValues().length} ordinary values`, () => {
    const recorded = new Map(events.filter((e) => e.mcp.message?.kind === 'request' && e.jsonrpc?.request?.id.startsWith('o')).map((e) => [e.jsonrpc!.request!.id, e.gen_ai?.tool?.call?.arguments]));
    expect(recorded.size).toBe(ordinary.length);
    const altered = ordinary.filter((value, i) => !isDeepStrictEqual(recorded.get(`o${i}`), value));
    process.stdout.write(`redaction corpus: ${altered.length} of ${ordinary.length} ordinary values altered: ${JSON.stringify(altered)}\n`);
    expect(ordinary.length).toBeGreaterThanOrEqual(150);
    expect(altered.length / ordinary.length).toBeLessThanOrEqual(0.02);
  });
});
