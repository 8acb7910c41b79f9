/**
 * The HTTP tap against a direct connection to the same MCP server, and against nginx as a streaming
 * reverse proxy (the reference a user would otherwise pick), in one run: tools/call requests/s and
 * latency with 1 and 50 concurrent MCP sessions, in JSON and SSE response modes, and the tap's memory.
 */
import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { packageRoot } from '../pipeline/packagePaths.js';
import { fmt, machineLine, percentile } from './benchReport.js';
import { mainThreadCpu, processCpu, processTreeCpu } from './cpuTime.js';

/** The benchmark's id: `npm run bench -- http-proxy`, and its BENCHMARKS.md section. */
export const id = 'http-proxy';

const root = packageRoot();
const CLI = join(root, 'dist', 'cli', 'tapwire.js');
const SERVER = join(root, 'test', 'fixtures', 'httpMcpServer.mjs');
const BARE_PROXY = join(root, 'bench', 'fixtures', 'bareHttpProxy.mjs');
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
/** Measurement rounds per configuration. */
const ROUNDS = 3;

type Mode = 'json' | 'sse';
type Path = 'direct' | 'tapwire' | 'nginx' | 'bare';
const PATHS: readonly Path[] = ['direct', 'tapwire', 'nginx', 'bare'];

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  /** Requests/s of each round, in round order. */
  roundRps: number[];
  /** CPU µs per request of the proxy: its process(es), and its main (forwarding) thread where it has one. */
  cpuUs: number;
  mainThreadUs: number;
}

function post(agent: Agent, url: URL, body: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...HEADERS, ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One MCP session over raw HTTP: as light a client as possible, so the load generator does not hide the proxy's cost. */
class BenchSession {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  #headers: Record<string, string> = {};

  /** A session against the MCP endpoint `url`. */
  constructor(readonly url: URL) {}

  /** initialize and notifications/initialized, as a host would send them. */
  async open(n: number): Promise<void> {
    const init = await post(this.#agent, this.url, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: `bench-${n}`, version: '1' } } }), {});
    const sessionId = init.headers['mcp-session-id'];
    if (init.status !== 200 || typeof sessionId !== 'string') throw new Error(`initialize via ${this.url} failed: ${init.status} ${init.text.slice(0, 200)}`);
    this.#headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    await post(this.#agent, this.url, '{"jsonrpc":"2.0","method":"notifications/initialized"}', this.#headers);
  }

  /** One tools/call round trip, in ms. */
  async call(i: number): Promise<number> {
    const t = performance.now();
    const answer = await post(this.#agent, this.url, JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'echo', arguments: { text: `call ${i}` } } }), this.#headers);
    const ms = performance.now() - t;
    if (answer.status !== 200 || !answer.text.includes(`call ${i}`)) throw new Error(`tools/call via ${this.url} failed: ${answer.status} ${answer.text.slice(0, 200)}`);
    return ms;
  }

  /** Closes the session's connection. */
  close(): void {
    this.#agent.destroy();
  }
}

/** Latencies and busy time of one path, gathered over several rounds. */
interface Samples {
  times: number[];
  seconds: number;
  roundRps: number[];
  cpu: number;
  mainThreadCpu: number;
}

/** CPU seconds a proxy has used so far: all its processes, and its forwarding thread. */
type CpuReader = () => { process: number; mainThread: number };

/** One round: `clients` concurrent sessions, each making `warmup` then `calls` sequential calls; the measured part only counts. */
async function round(url: URL, clients: number, calls: number, warmup: number, into: Samples, cpu: CpuReader): Promise<void> {
  const sessions = Array.from({ length: clients }, () => new BenchSession(url));
  await Promise.all(sessions.map((s, n) => s.open(n)));
  await Promise.all(sessions.map(async (s) => {
    for (let i = 0; i < warmup; i++) await s.call(i);
  }));
  const t0 = performance.now();
  const cpu0 = cpu();
  await Promise.all(sessions.map(async (s) => {
    for (let i = 0; i < calls; i++) into.times.push(await s.call(warmup + i));
  }));
  const cpu1 = cpu();
  const seconds = (performance.now() - t0) / 1000;
  into.seconds += seconds;
  into.roundRps.push((clients * calls) / seconds);
  into.cpu += cpu1.process - cpu0.process;
  into.mainThreadCpu += cpu1.mainThread - cpu0.mainThread;
  for (const s of sessions) s.close();
}

/** The lowest and highest per-round ratio of `a`'s requests/s to `b`'s (rounds run side by side). */
function roundRange(a: Measured, b: Measured): string {
  const ratios = a.roundRps.map((rps, r) => rps / (b.roundRps[r] ?? Number.NaN));
  return `${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}`;
}

function summarize(samples: Samples): Measured {
  const n = samples.times.length;
  return {
    rps: n / samples.seconds,
    p50: percentile(samples.times, 50),
    p99: percentile(samples.times, 99),
    roundRps: samples.roundRps,
    cpuUs: (samples.cpu / n) * 1e6,
    mainThreadUs: (samples.mainThreadCpu / n) * 1e6,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Started {
  child: ChildProcessByStdio<null, Readable, Readable>;
  match: RegExpExecArray;
  /** Everything the process wrote on the watched stream so far. */
  output: () => string;
}

/** Spawns a process and waits for `pattern` on the named output stream. */
async function started(command: string, args: string[], stream: 'stdout' | 'stderr', pattern: RegExp): Promise<Started> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  child.stdout.resume();
  child.stderr.resume();
  child[stream].on('data', (chunk: Buffer) => (seen += chunk.toString()));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start: ${seen}`)), 15_000);
    child[stream].on('data', () => {
      const found = pattern.exec(seen);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.on('exit', (code) => reject(new Error(`${command} exited with ${code}: ${seen}`)));
  });
  return { child, match, output: () => seen };
}

function stop(child: ChildProcessByStdio<null, Readable, Readable>): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function nginxBinary(): string | undefined {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** nginx as a streaming reverse proxy on loopback: no buffering either way, keep-alive to the upstream. */
async function startNginx(binary: string, dir: string, upstreamPort: number): Promise<{ url: URL; child: ChildProcessByStdio<null, Readable, Readable> }> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}daemon off;
worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream mcp { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
    }
  }
}
`,
  );
  const child = spawn(binary, ['-c', conf, '-p', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.resume();
  child.stderr.resume();
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET' }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (up) return { url: new URL(`http://127.0.0.1:${port}/mcp`), child };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nginx did not start: ${readFileSync(join(dir, 'nginx-error.log'), 'utf8').slice(-500)}`);
}

/** VmRSS and RssAnon (the process's own pages, without the node binary's shared ones) in MiB. */
function memoryMiB(pid: number): { rss: number; anon: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
    return { rss: kib('VmRSS'), anon: kib('RssAnon') };
  } catch {
    return { rss: 0, anon: 0 };
  }
}

interface Row {
  mode: Mode;
  clients: number;
  results: Partial<Record<Path, Measured>>;
}

/** Runs the HTTP proxy benchmarks and returns their BENCHMARKS.md section. */
export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-bench-http-'));
  const nginx = nginxBinary();
  const rows: Row[] = [];
  const rss: number[] = [];
  const anon: number[] = [];
  const observed: string[] = [];
  try {
    for (const mode of ['json', 'sse'] as const) {
      const server = await started(process.execPath, [SERVER, mode], 'stdout', /port (\d+)/);
      const upstreamPort = Number(server.match[1]);
      const proxy = await started(process.execPath, [CLI, 'proxy', '--listen', '127.0.0.1:0', '--upstream', `http://127.0.0.1:${upstreamPort}/mcp`, '--name', 'bench', '--home', join(dir, `home-${mode}`)], 'stderr', /listening on (\S+)/);
      const reference = nginx ? await startNginx(nginx, join(dir, `nginx-${mode}`), upstreamPort).catch((error: Error) => {
        process.stderr.write(`bench http-proxy: nginx failed to start (${error.message}); skipping it\n`);
        return undefined;
      }) : undefined;
      const bare = await started(process.execPath, [BARE_PROXY, `http://127.0.0.1:${upstreamPort}`], 'stderr', /listening on (\S+)/);
      const urls: Partial<Record<Path, URL>> = {
        direct: new URL(`http://127.0.0.1:${upstreamPort}/mcp`),
        tapwire: new URL(`${proxy.match[1]}/mcp`),
        ...(reference ? { nginx: reference.url } : {}),
        bare: new URL(`${bare.match[1]}/mcp`),
      };
      // What each path adds on top of the server: nothing for direct, the proxy's processes otherwise.
      const cpu: Record<Path, CpuReader> = {
        direct: () => ({ process: 0, mainThread: 0 }),
        tapwire: () => ({ process: processCpu(proxy.child.pid), mainThread: mainThreadCpu(proxy.child.pid) }),
        nginx: () => ({ process: processTreeCpu(reference?.child.pid), mainThread: 0 }),
        bare: () => ({ process: processCpu(bare.child.pid), mainThread: mainThreadCpu(bare.child.pid) }),
      };
      for (const [clients, calls, warmup] of [[1, 1000, 100], [50, 70, 10]] as const) {
        const samples: Partial<Record<Path, Samples>> = {};
        const paths = PATHS.filter((path) => urls[path] !== undefined);
        // Rounds rotate the order of the paths, so a change in the machine's load falls on all of them alike.
        for (let r = 0; r < ROUNDS; r++) {
          for (let i = 0; i < paths.length; i++) {
            const path = paths[(i + r) % paths.length]!;
            const sampler = path === 'tapwire' && clients === 50
              ? setInterval(() => {
                  const memory = memoryMiB(proxy.child.pid!);
                  rss.push(memory.rss);
                  anon.push(memory.anon);
                }, 50)
              : undefined;
            await round(urls[path]!, clients, calls, warmup, (samples[path] ??= { times: [], seconds: 0, roundRps: [], cpu: 0, mainThreadCpu: 0 }), cpu[path]);
            clearInterval(sampler);
          }
        }
        rows.push({ mode, clients, results: Object.fromEntries(Object.entries(samples).map(([path, s]) => [path, summarize(s)])) });
      }
      if (reference) await stop(reference.child);
      await stop(bare.child);
      await stop(proxy.child);
      const exchanges = Number(/after (\d+) exchanges/.exec(proxy.output())?.[1] ?? 0);
      const unobserved = Number(/(\d+) bytes were forwarded without being observed/.exec(proxy.output())?.[1] ?? 0);
      const dropped = Number(/(\d+) of \d+ events could not be stored/.exec(proxy.output())?.[1] ?? 0);
      observed.push(`${mode.toUpperCase()}: ${fmt(exchanges)} exchanges, ${fmt(unobserved)} bytes forwarded unobserved, ${fmt(dropped)} events dropped`);
      await stop(server.child);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return report(rows, { rss, anon }, observed, nginx !== undefined);
}

function report(rows: Row[], memory: { rss: number[]; anon: number[] }, observed: string[], haveNginx: boolean): string {
  const cell = (m: Measured | undefined): string => (m ? `${fmt(m.rps)} | ${fmt(m.p50, 3)} / ${fmt(m.p99, 3)}` : '– | –');
  const lines = rows.map(({ mode, clients, results: r }) => {
    const added = r.direct && r.tapwire ? fmt(r.tapwire.p50 - r.direct.p50, 3) : '–';
    const ratio = r.nginx && r.tapwire ? `**${fmt(r.tapwire.rps / r.nginx.rps, 2)}×** (${roundRange(r.tapwire, r.nginx)})` : '–';
    const bare = r.bare && r.tapwire ? `${fmt(r.tapwire.rps / r.bare.rps, 2)}× (${roundRange(r.tapwire, r.bare)})` : '–';
    return `| ${mode.toUpperCase()} | ${clients} | ${cell(r.direct)} | ${cell(r.tapwire)} | ${cell(r.nginx)} | ${cell(r.bare)} | **${added}** | ${ratio} | ${bare} |`;
  });
  const cpuLines = rows.map(({ mode, clients, results: r }) => {
    const us = (m: Measured | undefined, of: (m: Measured) => number): string => (m ? fmt(of(m)) : '–');
    return `| ${mode.toUpperCase()} | ${clients} | ${us(r.tapwire, (m) => m.mainThreadUs)} | ${us(r.tapwire, (m) => m.cpuUs)} | ${us(r.bare, (m) => m.cpuUs)} | ${us(r.nginx, (m) => m.cpuUs)} |`;
  });
  return [
    '## HTTP proxy (issue 3)',
    '',
    `Machine: ${machineLine()}. One real SDK Streamable HTTP server (stateful, one MCP session per client) in its own process; clients are raw keep-alive HTTP sessions in the benchmark process making sequential \`tools/call\` requests, measured in ${ROUNDS} rounds that rotate the order of direct, tapwire, nginx and a bare Node proxy; "direct" is the same clients against the same server with nothing between them. All on loopback, sharing the machine's cores (and, here, the machine with other work: the per-round ratios and their range are the figure to read).`,
    '',
    '| responses | clients | direct req/s | direct p50 / p99 ms | tapwire req/s | tapwire p50 / p99 ms | nginx req/s | nginx p50 / p99 ms | bare Node proxy req/s | bare p50 / p99 ms | added p50 ms (tapwire − direct) | tapwire / nginx req/s (per-round range) | tapwire / bare Node proxy |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
    '',
    haveNginx
      ? 'nginx (the Debian package) runs with `worker_processes auto`, `proxy_buffering off`, `proxy_request_buffering off`, HTTP/1.1 keep-alive to the upstream, no access log.'
      : 'nginx is not installed on this machine, so its columns are empty (`apt-get install nginx` to include it).',
    'The bare Node proxy (`bench/fixtures/bareHttpProxy.mjs`) is node:http server + keep-alive agent + pipes, observing nothing: the price of being a Node proxy at all.',
    '',
    'CPU µs per request over the measured calls (from /proc; all of a proxy\'s processes and threads, and the tap\'s forwarding thread alone):',
    '',
    '| responses | clients | tapwire forwarding thread | tapwire process (with its observer) | bare Node proxy | nginx (master + workers) |',
    '|---|---|---|---|---|---|',
    ...cpuLines,
    '',
    `Tap memory (one process: forwarding thread and observer worker) during the 50-session runs: VmRSS median ${fmt(percentile(memory.rss, 50), 1)} MiB, max ${fmt(Math.max(...memory.rss), 1)} MiB; RssAnon (without the node binary's shared pages) median ${fmt(percentile(memory.anon, 50), 1)} MiB, max ${fmt(Math.max(...memory.anon), 1)} MiB.`,
    '',
    `Observation kept up (the tap's own count at shutdown): ${observed.join('; ')}.`,
    '',
    'Goals: added p50 ≤ 1 ms; throughput ≥ 0.8× nginx in the same run, at 1 and at 50 clients (issue 13); tap RSS ≤ 150 MB at 50 sessions.',
  ].join('\n');
}
