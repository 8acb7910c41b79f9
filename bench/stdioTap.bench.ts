/**
 * The stdio tap against a direct pipe between the same host and server, in one run: one-way
 * throughput, request/response latency, the tap's memory, and the embedded store's ingest rate.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { SessionNormalizer } from '../collectors/normalizer.js';
import { Redactor } from '../collectors/redaction.js';
import { EmbeddedStore } from '../pipeline/embedded/embeddedStore.js';
import { packageRoot } from '../pipeline/packagePaths.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import { fmt, machineLine, percentile } from './benchReport.js';

export const id = 'stdio-tap';

/** direct: host ↔ server; relay: through a bare Node pipe relay; tap: through `tapwire tap`. */
type Mode = 'direct' | 'relay' | 'tap';
const root = packageRoot();
const CLI = join(root, 'dist', 'cli', 'tapwire.js');
const FLOOD = join(root, 'bench', 'fixtures', 'floodServer.mjs');
const ECHO = join(root, 'test', 'fixtures', 'echoServer.mjs');
const RELAY = join(root, 'bench', 'fixtures', 'pipeRelay.mjs');

function start(mode: Mode, home: string, server: string, args: string[]): ChildProcessByStdio<Writable, Readable, Readable> {
  const argv = {
    direct: [server, ...args],
    relay: [RELAY, process.execPath, server, ...args],
    tap: [CLI, 'tap', '--name', 'bench', '--home', home, '--', process.execPath, server, ...args],
  }[mode];
  return spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** VmRSS and RssAnon (the process's private memory, without the shared pages of the node binary), MiB. */
function memoryMiB(pid: number): { rss: number; anon: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rss: kib('VmRSS') / 1024, anon: kib('RssAnon') / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples a process's memory every 50 ms until stopped. */
function sampleMemory(pid: number): () => { rss: number; anon: number }[] {
  const samples: { rss: number; anon: number }[] = [];
  const timer = setInterval(() => {
    const m = memoryMiB(pid);
    if (m) samples.push(m);
  }, 50);
  return () => {
    clearInterval(timer);
    return samples.slice(Math.floor(samples.length / 4));
  };
}

/** MiB/s from the server to the host, timed from the host's "go" to the last byte. */
async function throughput(mode: Mode, home: string, count: number, size: number): Promise<{ mibPerSec: number; memory: { rss: number; anon: number }[]; received: number; unobservedBytes: number }> {
  const child = start(mode, home, FLOOD, [String(count), String(size)]);
  let unobservedBytes = 0;
  child.stderr.on('data', (chunk: Buffer) => {
    const skipped = /(\d+) bytes were forwarded without being observed/.exec(chunk.toString());
    if (skipped) unobservedBytes = Number(skipped[1]);
  });
  const stopSampling = sampleMemory(child.pid!);
  let received = 0;
  let t0 = 0;
  let ready = false;
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (!ready) {
        ready = true;
        t0 = performance.now();
        child.stdin.write('go\n');
        return;
      }
      received += chunk.length;
    });
    child.on('close', () => resolve());
  });
  const seconds = (performance.now() - t0) / 1000;
  return { mibPerSec: received / 2 ** 20 / seconds, memory: stopSampling(), received, unobservedBytes };
}

/** Round-trip times in ms of `n` sequential request/response pairs of about `size` bytes, and the relay's memory meanwhile. */
async function roundTrips(mode: Mode, home: string, size: number, n: number): Promise<{ times: number[]; memory: { rss: number; anon: number }[] }> {
  const child = start(mode, home, ECHO, []);
  const stopSampling = sampleMemory(child.pid!);
  child.stderr.resume();
  const filler = 'y'.repeat(Math.max(0, size - 120));
  let lines = 0;
  let waiting: (() => void) | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    waiting?.();
  });
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const target = lines + 1;
    const t = performance.now();
    await new Promise<void>((resolve) => {
      waiting = () => {
        if (lines >= target) resolve();
      };
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { text: filler } } })}\n`);
    });
    times.push(performance.now() - t);
  }
  const memory = stopSampling();
  child.stdin.end();
  await new Promise((resolve) => child.on('close', resolve));
  return { times: times.slice(Math.min(200, n / 10)), memory };
}

function syntheticEvents(count: number): McpEvent[] {
  const normalizer = new SessionNormalizer(
    {
      sessionId: 'bench-session',
      hostSessionId: 'bench-host',
      transport: 'stdio',
      serverId: 'stdio:node bench-server.js',
      serverName: 'bench',
      context: { host: { hostname: 'bench' }, observer: { type: 'stdio_tap', product: 'tapwire', vendor: 'Tapwire', version: '0' }, network: { transport: 'pipe' } },
    },
    { redactor: new Redactor('bench') },
  );
  const events: McpEvent[] = [];
  for (let i = 0; events.length < count; i++) {
    events.push(...normalizer.frame('client_to_server', JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'read_file', arguments: { path: `/home/user/project/src/file${i}.ts` } } }), 1_700_000_000_000 + i));
    events.push(...normalizer.frame('server_to_client', JSON.stringify({ jsonrpc: '2.0', id: i, result: { content: [{ type: 'text', text: `export const value${i} = ${i};\n`.repeat(8) }] } }), 1_700_000_000_001 + i));
  }
  return events.slice(0, count);
}

/** Events/s into the embedded store from one writer, and a bare SQLite insert of the same JSON as the baseline. */
async function storeIngest(dir: string, count: number): Promise<{ store: number; bare: number }> {
  const events = syntheticEvents(count);
  const store = new EmbeddedStore(join(dir, 'store.sqlite'));
  let t = performance.now();
  for (let i = 0; i < events.length; i += 5000) await store.ingestEvents(events.slice(i, i + 5000));
  const storeRate = count / ((performance.now() - t) / 1000);
  await store.close();

  const db = new Database(join(dir, 'bare.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE events (id TEXT PRIMARY KEY, json TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO events (id, json) VALUES (?, ?)');
  const batch = db.transaction((rows: McpEvent[]) => {
    for (const e of rows) insert.run(e.event.id, JSON.stringify(e));
  });
  t = performance.now();
  for (let i = 0; i < events.length; i += 5000) batch(events.slice(i, i + 5000));
  const bareRate = count / ((performance.now() - t) / 1000);
  db.close();
  return { store: storeRate, bare: bareRate };
}

/** Runs the stdio benchmarks and returns their BENCHMARKS.md section. */
export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-bench-'));
  try {
    const throughputRows: string[] = [];
    const latencyRows: string[] = [];
    const unobserved: string[] = [];
    const firehoseMemory: { rss: number; anon: number }[] = [];
    const steadyMemory: { rss: number; anon: number }[] = [];
    for (const size of [1024, 65536]) {
      const count = size === 1024 ? 200_000 : 4_000;
      const direct = await throughput('direct', dir, count, size);
      const relay = await throughput('relay', dir, count, size);
      const tapped = await throughput('tap', join(dir, `tp-${size}`), count, size);
      firehoseMemory.push(...tapped.memory);
      const n = size === 1024 ? 3000 : 1000;
      const rtDirect = (await roundTrips('direct', dir, size, n)).times;
      const tappedTrips = await roundTrips('tap', join(dir, `rt-${size}`), size, n);
      const rtTap = tappedTrips.times;
      steadyMemory.push(...tappedTrips.memory);
      const rtRelay = (await roundTrips('relay', dir, size, n)).times;
      const ms = (times: number[]): string => `${fmt(percentile(times, 50), 3)} / ${fmt(percentile(times, 99), 3)}`;
      throughputRows.push(
        `| ${size / 1024} KiB | ${fmt(direct.mibPerSec, 1)} | ${fmt(relay.mibPerSec, 1)} (${fmt(relay.mibPerSec / direct.mibPerSec, 2)}×) | ${fmt(tapped.mibPerSec, 1)} | **${fmt(tapped.mibPerSec / direct.mibPerSec, 2)}×** | **${fmt(tapped.mibPerSec / relay.mibPerSec, 2)}×** |`,
      );
      latencyRows.push(`| ${size / 1024} KiB | ${ms(rtDirect)} | ${ms(rtRelay)} | ${ms(rtTap)} | **${fmt(percentile(rtTap, 99) - percentile(rtDirect, 99), 3)}** | ${fmt(percentile(rtTap, 50) - percentile(rtDirect, 50), 3)} |`);
      unobserved.push(`${size / 1024} KiB: ${fmt((tapped.unobservedBytes / (tapped.received || 1)) * 100, 0)}%`);
    }
    const ingest = await storeIngest(dir, 200_000);
    return [
      '## stdio tap (issue 2)',
      '',
      `Machine: ${machineLine()}. Host and server are real processes on pipes; "direct" is the same host and server with no tap between them.`,
      '',
      'One-way throughput, server → host, the server writing as fast as the pipe takes it:',
      '',
      '| message | direct MiB/s | bare Node relay MiB/s | tapped MiB/s | tapped/direct | tapped/relay |',
      '|---|---|---|---|---|---|',
      ...throughputRows,
      '',
      `Share of the firehose the tap forwarded without observing (it sheds observation, never traffic): ${unobserved.join(', ')}.`,
      '',
      'Round trips, one request in flight (ms):',
      '',
      '| message | direct p50 / p99 | bare relay p50 / p99 | tapped p50 / p99 | added p99 | added p50 |',
      '|---|---|---|---|---|---|',
      ...latencyRows,
      '',
      'Tap memory (one process: forwarding thread, observer worker, ring, SQLite), after warm-up. VmRSS includes about 40 MiB of',
      "the node binary's shared pages that any Node process maps; RssAnon is the tap's own memory:",
      '',
      '| traffic | VmRSS median / max MiB | RssAnon median / max MiB |',
      '|---|---|---|',
      `| request/response (the round trips above) | ${fmt(percentile(steadyMemory.map((m) => m.rss), 50), 1)} / ${fmt(Math.max(...steadyMemory.map((m) => m.rss)), 1)} | ${fmt(percentile(steadyMemory.map((m) => m.anon), 50), 1)} / ${fmt(Math.max(...steadyMemory.map((m) => m.anon)), 1)} |`,
      `| firehose (the throughput runs) | ${fmt(percentile(firehoseMemory.map((m) => m.rss), 50), 1)} / ${fmt(Math.max(...firehoseMemory.map((m) => m.rss)), 1)} | ${fmt(percentile(firehoseMemory.map((m) => m.anon), 50), 1)} / ${fmt(Math.max(...firehoseMemory.map((m) => m.anon)), 1)} |`,
      '',
      `Embedded store ingest, one writer, 200,000 normalized tools/call events in batches of 5,000: **${fmt(ingest.store)} events/s** (with the sessions/servers/tools views); bare SQLite insert of the same JSON into an id+json table, the baseline: ${fmt(ingest.bare)} events/s (${fmt(ingest.store / ingest.bare, 2)}× of it).`,
      '',
      'Goals: throughput ≥ 0.9× direct; added p99 RTT ≤ 0.5 ms; tap RSS ≤ 80 MB; store ingest ≥ 50,000 events/s.',
      'A firehose of back-to-back messages is the worst case for any relay: every byte crosses two extra pipe hops and a',
      'second process, which the "bare Node relay" column prices on its own.',
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
