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
import { mainThreadCpu, processCpu } from './cpuTime.js';

export const id = 'stdio-tap';

/** direct: host ↔ server; relay: through a bare Node pipe relay; tap: through `tapwire tap`. */
type Mode = 'direct' | 'relay' | 'tap';
const MODES: readonly Mode[] = ['direct', 'relay', 'tap'];
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

interface Throughput {
  mibPerSec: number;
  /** From the last byte to the process's exit (the tap hands off what it has not recorded meanwhile). */
  exitMs: number;
  /** CPU seconds per GiB forwarded, from "go" to the last byte: the whole process, and its main (forwarding) thread. */
  cpuPerGiB: { process: number; mainThread: number };
  memory: { rss: number; anon: number }[];
  received: number;
  unobservedBytes: number;
}

/** MiB/s from the server to the host, timed from the host's "go" to the last byte, with the relay's CPU meanwhile. */
async function throughput(mode: Mode, home: string, count: number, size: number): Promise<Throughput> {
  const child = start(mode, home, FLOOD, [String(count), String(size)]);
  const pid = child.pid!;
  let unobservedBytes = 0;
  child.stderr.on('data', (chunk: Buffer) => {
    const skipped = /(\d+) bytes were forwarded without being observed/.exec(chunk.toString());
    if (skipped) unobservedBytes = Number(skipped[1]);
  });
  const stopSampling = sampleMemory(pid);
  const cpu = (): { process: number; mainThread: number } => ({ process: processCpu(pid), mainThread: mainThreadCpu(pid) });
  let received = 0;
  let t0 = 0;
  let last = 0;
  let sampledAt = 0;
  let cpuAtGo = { process: 0, mainThread: 0 };
  let cpuAtLast = cpuAtGo;
  let ready = false;
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (!ready) {
        ready = true;
        cpuAtGo = cpu();
        t0 = performance.now();
        child.stdin.write('go\n');
        return;
      }
      received += chunk.length;
      last = performance.now();
      // /proc is read at most every 20 ms, so the last reading falls within 20 ms of the last byte.
      if (last - sampledAt >= 20) {
        cpuAtLast = cpu();
        sampledAt = last;
      }
    });
    child.on('close', () => resolve());
  });
  const exitMs = performance.now() - last;
  const gib = received / 2 ** 30;
  return {
    mibPerSec: received / 2 ** 20 / ((last - t0) / 1000),
    exitMs,
    cpuPerGiB: { process: (cpuAtLast.process - cpuAtGo.process) / gib, mainThread: (cpuAtLast.mainThread - cpuAtGo.mainThread) / gib },
    memory: stopSampling(),
    received,
    unobservedBytes,
  };
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
    const cpuRows: string[] = [];
    const latencyRows: string[] = [];
    const kept: string[] = [];
    const firehoseMemory: { rss: number; anon: number }[] = [];
    const steadyMemory: { rss: number; anon: number }[] = [];
    for (const size of [1024, 65536]) {
      const count = size === 1024 ? 200_000 : 4_000;
      const runs: Record<Mode, Throughput[]> = { direct: [], relay: [], tap: [] };
      // Rounds rotate the order of the three paths, so a change in the machine's load falls on all of them alike.
      const rounds = size === 1024 ? 5 : 3;
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < MODES.length; i++) {
          const mode = MODES[(i + r) % MODES.length]!;
          runs[mode].push(await throughput(mode, mode === 'tap' ? join(dir, `tp-${size}-${r}`) : dir, count, size));
        }
      }
      for (const tapped of runs.tap) firehoseMemory.push(...tapped.memory);
      const median = (mode: Mode, of: (t: Throughput) => number): number => percentile(runs[mode].map(of), 50);
      const ratios = runs.tap.map((tapped, r) => tapped.mibPerSec / runs.relay[r]!.mibPerSec);
      const mib = (mode: Mode): number => median(mode, (t) => t.mibPerSec);
      throughputRows.push(
        `| ${size / 1024} KiB | ${rounds} | ${fmt(mib('direct'), 1)} | ${fmt(mib('relay'), 1)} | ${fmt(mib('tap'), 1)} | **${fmt(percentile(ratios, 50), 2)}×** (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}) | ${fmt(median('relay', (t) => t.exitMs))} | ${fmt(median('tap', (t) => t.exitMs))} |`,
      );
      cpuRows.push(
        `| ${size / 1024} KiB | ${fmt(median('relay', (t) => t.cpuPerGiB.process), 2)} | ${fmt(median('tap', (t) => t.cpuPerGiB.mainThread), 2)} | ${fmt(median('tap', (t) => t.cpuPerGiB.process), 2)} |`,
      );
      const keptShares = runs.tap.map((t) => 100 * (1 - t.unobservedBytes / (t.received || 1)));
      kept.push(`${size / 1024} KiB: median ${fmt(percentile(keptShares, 50), 0)}% (${fmt(Math.min(...keptShares), 0)}–${fmt(Math.max(...keptShares), 0)}%)`);
      const n = size === 1024 ? 3000 : 1000;
      const rtDirect = (await roundTrips('direct', dir, size, n)).times;
      const tappedTrips = await roundTrips('tap', join(dir, `rt-${size}`), size, n);
      const rtTap = tappedTrips.times;
      steadyMemory.push(...tappedTrips.memory);
      const rtRelay = (await roundTrips('relay', dir, size, n)).times;
      const ms = (times: number[]): string => `${fmt(percentile(times, 50), 3)} / ${fmt(percentile(times, 99), 3)}`;
      latencyRows.push(`| ${size / 1024} KiB | ${ms(rtDirect)} | ${ms(rtRelay)} | ${ms(rtTap)} | **${fmt(percentile(rtTap, 99) - percentile(rtDirect, 99), 3)}** | ${fmt(percentile(rtTap, 50) - percentile(rtDirect, 50), 3)} |`);
    }
    const ingest = await storeIngest(dir, 200_000);
    return [
      '## stdio tap (issue 2)',
      '',
      `Machine: ${machineLine()}. Host and server are real processes on pipes; "direct" is the same host and server with no tap between them.`,
      '',
      'One-way throughput, server → host, the server writing as fast as the pipe takes it, timed from the host\'s "go" to the',
      'last byte; medians of rounds that rotate the order of direct, relay and tap (this machine is shared with other work,',
      'so wall-clock rates move with its load: the per-round ratio and its range are the figure to read):',
      '',
      '| message | rounds | direct MiB/s | bare Node relay MiB/s | tapped MiB/s | tapped/relay, median (range) | relay exit after last byte ms | tap exit after last byte ms |',
      '|---|---|---|---|---|---|---|---|',
      ...throughputRows,
      '',
      'CPU seconds per GiB forwarded, from "go" to the last byte (medians; the tap\'s forwarding thread is its main thread,',
      'the rest of the tap process is its observer worker, the spill writes on libuv\'s pool and V8\'s helper threads):',
      '',
      '| message | bare relay process | tap forwarding thread | tap process |',
      '|---|---|---|---|',
      ...cpuRows,
      '',
      `Share of the firehose the tap kept, observed live or spilled for the hand-off (it sheds observation, never traffic, and counts what it shed): ${kept.join('; ')}.`,
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
      'Goals: throughput ≥ 0.9× the bare Node relay in the same run (issue 13; issue 2 asked 0.9× direct); added p99 RTT ≤ 0.5 ms; tap RSS ≤ 80 MB; store ingest ≥ 50,000 events/s.',
      'A firehose of back-to-back messages is the worst case for any relay: every byte crosses two extra pipe hops and a',
      'second process, which the "bare Node relay" column prices on its own.',
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
