#!/usr/bin/env node
/**
 * The stdio observer's per-event cost in one process (issue 13 item 5): 64 KiB chunks of server lines through the
 * observer's own parts, line framer → session normalizer (with the home's redactor) → event publisher → embedded bus
 * append, as the tap's worker chains them. Rates are events per CPU-second of this process, so a machine shared with
 * other work slows every build alike; builds alternate round by round.
 *
 *   npm run build && node scripts/profiling/observerPipeline.mjs flood [BASE_DIST] [EVENTS] [ROUNDS]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof scripts/profiling/observerPipeline.mjs burst
 *
 * Workloads: flood (bench/fixtures/floodServer.mjs's 1 KiB notifications, the stdio-tap bench's firehose), burst
 * (test/fixtures/burstServer.mjs's ~95-byte notifications, the burst bench's), call (a tools/call request and its
 * response, ~1 KiB each, with request ids to correlate).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKLOADS = {
  flood: () => {
    const head = '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"';
    const tail = '"}}';
    return () => head + 'x'.repeat(1024 - head.length - tail.length - 1) + tail;
  },
  burst: () => {
    let n = 0;
    return () => `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"burst ${n++}"}}`;
  },
  call: () => {
    let n = 0;
    const text = 'The forecast for Lisbon on Tuesday: sunny spells, light winds from the north-west, 18 to 24 degrees. '.repeat(9);
    return () => {
      const id = n++;
      return id % 2 === 0
        ? JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_forecast', arguments: { city: 'Lisbon', days: 3, notes: text } } })
        : JSON.stringify({ jsonrpc: '2.0', id: id - 1, result: { content: [{ type: 'text', text }], isError: false } });
    };
  },
};

const workload = process.argv[2] ?? 'flood';
if (!(workload in WORKLOADS)) throw new Error(`workload must be one of ${Object.keys(WORKLOADS).join(', ')} (got ${workload})`);
const baseDist = process.argv[3] || undefined;
const events = Number(process.argv[4] ?? 100_000);
const rounds = Number(process.argv[5] ?? (baseDist ? 6 : 1));
const newDist = fileURLToPath(new URL('../../dist', import.meta.url));

/** The workload's lines in 64 KiB chunks, each cut at a line end as the pipe would not be: the framer's carry counts. */
function chunks() {
  const next = WORKLOADS[workload]();
  const out = [];
  let text = '';
  for (let i = 0; i < events; i++) {
    text += `${next()}\n`;
    if (text.length >= 65536) {
      const cut = Buffer.from(text);
      out.push(cut.subarray(0, 65536));
      text = cut.subarray(65536).toString();
    }
  }
  if (text.length > 0) out.push(Buffer.from(text));
  return out;
}

async function load(name, dist) {
  const imp = (path) => import(join(dist, path));
  return {
    name,
    LineFramer: (await imp('collectors/stdio/lineFramer.js')).LineFramer,
    stdioSession: (await imp('collectors/stdio/stdioSession.js')).stdioSession,
    Redactor: (await imp('collectors/redaction.js')).Redactor,
    EventPublisher: (await imp('collectors/eventPublisher.js')).EventPublisher,
    EmbeddedBus: (await imp('pipeline/embedded/embeddedBus.js')).EmbeddedBus,
    rates: [],
  };
}

/** One run of every chunk through a fresh observer and bus; events per CPU-second, and the bus's record count. */
async function run(build, input) {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-observer-'));
  const bus = new build.EmbeddedBus(join(dir, 'bus.sqlite'), { busyTimeoutMs: 250 });
  const redactor = new build.Redactor(Buffer.alloc(32, 7));
  const { normalizer } = build.stdioSession({ sessionId: 'bench', name: 'bench', command: '/usr/bin/node', args: ['server.mjs'] }, { id: 'host', hostPid: 1 }, redactor);
  const publisher = new build.EventPublisher((topic, records) => bus.appendSync(topic, records), { maxQueued: Infinity });
  let emitted = 0;
  const framer = new build.LineFramer(
    {
      frame: (line, t) => {
        for (const event of normalizer.frame('server_to_client', line, t)) {
          emitted++;
          publisher.enqueue(event);
        }
      },
      oversized: () => undefined,
    },
    1 << 24,
  );
  const since = process.cpuUsage();
  const t = Date.now();
  for (const chunk of input) {
    framer.push(chunk, t);
    // The observer publishes every ~1,000 events, between chunks.
    if (emitted % 1000 < 64) await publisher.flush();
  }
  await publisher.deliver(60_000);
  const used = process.cpuUsage(since);
  const stored = bus.describe().topics.reduce((sum, topic) => sum + topic.records, 0);
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
  return { rate: emitted / ((used.user + used.system) / 1e6), emitted, stored };
}

const input = chunks();
const builds = [await load('new', newDist)];
if (baseDist) builds.unshift(await load('base', baseDist));
// A first, unmeasured run per build warms up its code.
for (const build of builds) await run(build, input.slice(0, Math.ceil(input.length / 10)));
for (let round = 0; round < rounds; round++) {
  for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
    const { rate, emitted, stored } = await run(build, input);
    if (stored !== emitted) throw new Error(`${build.name}: ${emitted} events made, ${stored} on the bus`);
    build.rates.push(rate);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const build of builds) process.stdout.write(`${workload} ${build.name}: median ${Math.round(median(build.rates))} events/CPU-s (${build.rates.map(Math.round).join(', ')})\n`);
if (baseDist) {
  const ratios = builds[1].rates.map((r, i) => r / builds[0].rates[i]);
  process.stdout.write(`new/base per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}×\n`);
}
