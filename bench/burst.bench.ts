/**
 * A burst through the stdio tap (issue 10): one request makes a real server process write 100,000 small
 * notifications/message lines as fast as the pipe takes them. The session stays open until the bus holds every
 * message, so the figures are the tap's live observation (no hand-off), read from the observer thread's own CPU
 * time (/proc schedstat of the thread at nice 19) and the whole tap process's, beside JSON.parse of the same lines
 * in this process: CPU time, because the machine is shared and wall-clock rates move with everyone's load.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { packageRoot } from '../pipeline/packagePaths.js';
import { fmt, machineLine, percentile } from './benchReport.js';
import { processCpu } from './cpuTime.js';

export const id = 'burst';

const root = packageRoot();
const CLI = join(root, 'dist', 'cli', 'tapwire.js');
const BURST_SERVER = join(root, 'test', 'fixtures', 'burstServer.mjs');
const NOTIFICATIONS = 100_000;
const ROUNDS = 3;
/** The observer lowers its thread to this nice value (collectors/observerThread.ts): how the bench finds it. */
const OBSERVER_NICE = 19;

/** CPU seconds of the tap's observer thread so far, from the kernel's per-thread schedstat. */
function observerCpu(pid: number): number | undefined {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(fields[16]) === OBSERVER_NICE) return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return undefined;
}

/** The lines the burst server writes for one request (id 1), as the host receives them. */
function burstLines(): string[] {
  const lines = Array.from({ length: NOTIFICATIONS }, (_, n) => `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"burst ${n}"}}`);
  lines.push(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: `sent ${NOTIFICATIONS}` }] } }));
  return lines;
}

interface Round {
  events: number;
  /** The observer thread's CPU seconds from session.start on the bus to the last event of the burst. */
  observerCpu: number;
  /** Its CPU seconds before: starting the worker, loading modules, opening the bus. */
  observerStartCpu: number;
  tapCpu: number;
  wallSeconds: number;
  handedOff: boolean;
  dropped: number;
  unobserved: number;
  /** The tap's peak resident memory (VmHWM), MiB. */
  peakRssMiB: number;
}

function peakRssMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024;
}

async function round(home: string): Promise<Round> {
  const tap = spawn(process.execPath, [CLI, 'tap', '--name', 'burst', '--home', home, '--', process.execPath, BURST_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const closed = new Promise<void>((resolve) => tap.on('close', () => resolve()));
  let answered: () => void = () => undefined;
  const answer = new Promise<void>((resolve) => (answered = resolve));
  let tail = '';
  tap.stdout.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('latin1')).slice(-200);
    if (tail.includes('"id":1,"result"')) answered();
  });
  const busFile = join(home, 'bus.sqlite');
  let db: Database.Database | undefined;
  const recorded = (): number => {
    db ??= existsSync(busFile) ? new Database(busFile, { readonly: true, fileMustExist: true }) : undefined;
    try {
      return (db?.prepare('SELECT count(*) FROM records').pluck().get() as number | undefined) ?? 0;
    } catch {
      return 0; // the observer has not created the log's tables yet
    }
  };
  // The observer's start (loading its modules, opening the bus) is counted apart from the burst: once per tap.
  while (recorded() < 1) await new Promise((resolve) => setTimeout(resolve, 20));
  const startCpu = observerCpu(tap.pid!) ?? Number.NaN;
  const t0 = performance.now();
  tap.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'burst', arguments: { count: NOTIFICATIONS } } })}\n`);
  await answer;
  // session.start, the request, the notifications and the response: the session stays open until all are on the bus.
  const expected = NOTIFICATIONS + 3;
  // Chunks the ring had no room for wait in a spill file until the tap exits: then the live figures cannot be had.
  const spilled = (): boolean => existsSync(join(home, 'handoff')) && readdirSync(join(home, 'handoff')).some((f) => f.endsWith('.spill'));
  while (recorded() < expected && !spilled()) await new Promise((resolve) => setTimeout(resolve, 20));
  const wallSeconds = (performance.now() - t0) / 1000;
  const observer = observerCpu(tap.pid!) ?? Number.NaN;
  const tapCpu = processCpu(tap.pid);
  const peak = peakRssMiB(tap.pid!);
  tap.stdin.end();
  await closed;
  // Without its end on the bus, the tap handed the session's end off (its observer had no CPU in time): counters unknown here.
  const endRow = db!.prepare("SELECT value FROM records WHERE value LIKE '%\"session.end\"%' ORDER BY \"offset\" DESC LIMIT 1").pluck().get() as string | undefined;
  const end = endRow ? (JSON.parse(endRow) as { mcp: { tap: { dropped: number; bytes_unobserved: number } } }) : { mcp: { tap: { dropped: Number.NaN, bytes_unobserved: Number.NaN } } };
  db!.close();
  const handedOff = existsSync(join(home, 'handoff')) && readdirSync(join(home, 'handoff')).length > 0;
  return { events: expected - 1, observerCpu: observer - startCpu, observerStartCpu: startCpu, tapCpu, wallSeconds, handedOff, dropped: end.mcp.tap.dropped, unobserved: end.mcp.tap.bytes_unobserved, peakRssMiB: peak };
}

/** Runs the burst rounds and returns the BENCHMARKS.md section. */
export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-burst-'));
  try {
    const lines = burstLines();
    const rows: string[] = [];
    const observerRates: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const result = await round(join(dir, `round-${r}`));
      const since = process.cpuUsage();
      let kept = 0;
      for (const line of lines) kept += (JSON.parse(line) as { jsonrpc: string }).jsonrpc.length;
      const used = process.cpuUsage(since);
      const parseRate = lines.length / ((used.user + used.system) / 1e6);
      const observerRate = result.events / result.observerCpu;
      const withStart = result.events / (result.observerCpu + result.observerStartCpu);
      observerRates.push(observerRate);
      ratios.push(observerRate / parseRate);
      rows.push(
        `| ${r + 1} | ${fmt(result.events)} | **${fmt(observerRate)}** | ${fmt(withStart)} (${fmt(result.observerStartCpu * 1000)} ms) | ${fmt(result.events / result.tapCpu)} | ${fmt(parseRate)} | ${fmt(observerRate / parseRate, 3)}× | ${fmt(result.events / result.wallSeconds)} | ${result.handedOff ? 'yes' : 'no'} | ${result.dropped} | ${result.unobserved} | ${fmt(result.peakRssMiB, 1)} |`,
      );
      if (kept === 0) throw new Error('unreachable: keeps the baseline loop from being optimised away');
    }
    return [
      '## Burst through the stdio tap (issue 10)',
      '',
      `Machine: ${machineLine()}, shared with other work (load average ${fmt(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]), 1)} at the end).`,
      `One \`tools/call\` makes a real server process (test/fixtures/burstServer.mjs) write ${fmt(NOTIFICATIONS)} notifications/message lines`,
      '(~95 bytes each) and its response as fast as the pipe takes them; the host reads them through `tapwire tap` with the embedded',
      'bus writable, and keeps the session open until the bus holds every message. Rates are per CPU-second: the observer',
      "thread's own (kernel schedstat) from the session's start on the bus to the burst's last event, then with the",
      "observer's start included (worker, modules, bus: once per tap), the whole tap process's (forwarding thread, observer, V8's helper threads), and",
      'JSON.parse of the same lines in the bench process, in the same round. Wall-clock is from the request to the last event',
      'on the bus, at the lowest CPU priority on a shared machine.',
      '',
      '| round | events | observer events/CPU-s | with its start (start CPU) | tap process events/CPU-s | JSON.parse lines/CPU-s | observer / JSON.parse | events/s wall | handed off | dropped | bytes unobserved | tap peak RSS MiB |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Median observer rate ${fmt(percentile(observerRates, 50))} events per CPU-second (${fmt(percentile(ratios, 50), 3)}× JSON.parse alone). Goal: ≥ 50,000 small events/s observed, nothing dropped.`,
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
