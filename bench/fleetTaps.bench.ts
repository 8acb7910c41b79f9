/**
 * Events/s from real stdio taps to the store, with every detector on, on both paths in one run:
 *
 * - embedded: `tapwire tap` processes → the home's SQLite bus → detector worker + store sync → SQLite store;
 * - fleet: `tapwire tap` processes (bus: kafka) → the real Kafka 4 broker → two detector workers in one group →
 *   the real Elasticsearch (scripts/services.sh; topics, group and namespace of this run's own).
 *
 * Each tap wraps the demo's notes server and is driven by an SDK client calling its tools back to back. The events
 * to wait for are counted on the bus once the taps have exited (what the taps published), never assumed; the path
 * is done when the store holds that many and the detectors have committed all of them.
 *
 * The machine has 2 cores shared with other engineers' work, so besides wall-clock rates every figure comes with CPU
 * time (from /proc: the tap processes, this process which runs the pipeline, and the two engine JVMs) and the machine's
 * total busy time in the same window, which shows how much of the 2 cores went to other work.
 * TAPWIRE_BENCH_CALLS sets the calls per tap (default 400).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { loadDetection } from '../service/detectionSetup.js';
import { BusDetectWorker } from '../service/busDetectWorker.js';
import { EmbeddedStateStore } from '../detectors/embeddedStateStore.js';
import { TOPICS } from '../pipeline/bus.js';
import { EmbeddedBus } from '../pipeline/embedded/embeddedBus.js';
import { EmbeddedStore } from '../pipeline/embedded/embeddedStore.js';
import { KafkaBus } from '../pipeline/kafka/kafkaBus.js';
import { packageRoot } from '../pipeline/packagePaths.js';
import { syncStoreFromBus } from '../service/storeSync.js';
import { fmt, machineLine } from './benchReport.js';
import { enginePids, machineBusy, ownCpuSince, processCpu } from './cpuTime.js';
import { realEngines, startGroupWorkers, waitFor, type FleetTarget } from './fleetTargets.js';

export const id = 'fleet-taps';

const TAPS = 4;
const CALLS_PER_TAP = Number(process.env.TAPWIRE_BENCH_CALLS ?? 400);

interface PathRun {
  events: number;
  alerts: number;
  seconds: number;
  trafficSeconds: number;
  cpu: { taps: number; servers: number; pipeline: number; kafka: number; elasticsearch: number; machine: number };
}

interface PathUnderTest {
  /** The taps' environment/config arguments. */
  tapArgs: string[];
  /** Events the taps published, counted on the bus. */
  published(): Promise<number>;
  /** True once the store holds `events` events and the detectors have committed them all. */
  done(events: number): Promise<boolean>;
  alerts(): Promise<number>;
  close(): Promise<void>;
}

/** Runs the taps against `path`, waits for the pipeline, and measures it. */
async function measure(path: PathUnderTest, home: string): Promise<PathRun> {
  const cli = join(packageRoot(), 'dist', 'cli', 'tapwire.js');
  const server = join(packageRoot(), 'dist', 'cli', 'demo', 'notesServer.js');
  const clients: { client: Client; transport: StdioClientTransport }[] = [];
  for (let i = 0; i < TAPS; i++) {
    const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'tap', '--name', `notes-${i}`, '--home', home, ...path.tapArgs, '--', process.execPath, server], stderr: 'ignore' });
    const client = new Client({ name: `bench-host-${i}`, version: '1.0.0' });
    await client.connect(transport);
    clients.push({ client, transport });
  }
  const engines = enginePids();
  const before = { pipeline: process.cpuUsage(), kafka: processCpu(engines.kafka), elasticsearch: processCpu(engines.elasticsearch), machine: machineBusy() };
  // Each tap's CPU, and that of the notes server it wraps (its only child).
  const tapPids = clients.map(({ transport }) => transport.pid);
  const serverPids = tapPids.map((pid) => Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]) || undefined);
  const tapCpuBefore = tapPids.map(processCpu);
  const serverCpuBefore = serverPids.map(processCpu);
  const started = performance.now();
  await Promise.all(
    clients.map(async ({ client }, i) => {
      for (let call = 0; call < CALLS_PER_TAP; call++) {
        if (call % 3 === 0) await client.callTool({ name: 'list_notes', arguments: {} });
        else if (call % 3 === 1) await client.callTool({ name: 'read_note', arguments: { name: 'groceries' } });
        else await client.callTool({ name: 'write_note', arguments: { name: `n${i}-${call}`, text: `note ${call} of host ${i}` } });
      }
    }),
  );
  const trafficSeconds = (performance.now() - started) / 1000;
  const taps = tapPids.reduce((sum: number, pid, i) => sum + processCpu(pid) - (tapCpuBefore[i] ?? 0), 0);
  const servers = serverPids.reduce((sum: number, pid, i) => sum + processCpu(pid) - (serverCpuBefore[i] ?? 0), 0);
  for (const { client } of clients) await client.close();
  const events = await path.published();
  await waitFor(() => path.done(events), 100);
  const seconds = (performance.now() - started) / 1000;
  const cpu = {
    taps,
    servers,
    pipeline: ownCpuSince(before.pipeline),
    kafka: engines.kafka ? processCpu(engines.kafka) - before.kafka : 0,
    elasticsearch: engines.elasticsearch ? processCpu(engines.elasticsearch) - before.elasticsearch : 0,
    machine: machineBusy() - before.machine,
  };
  const alerts = await path.alerts();
  await path.close();
  return { events, alerts, seconds, trafficSeconds, cpu };
}

/** Taps on the home's embedded bus; this process runs the detector worker and the store sync as `tapwire up` does. */
async function embeddedPath(home: string): Promise<PathUnderTest> {
  const bus = new EmbeddedBus(join(home, 'bus.sqlite'));
  const store = new EmbeddedStore(join(home, 'store.sqlite'));
  const state = new EmbeddedStateStore(join(home, 'state.sqlite'));
  const worker = new BusDetectWorker({ bus, store, runtime: loadDetection(state).runtime });
  await worker.start();
  let stopped = false;
  let stored = 0;
  let expected = Number.POSITIVE_INFINITY;
  let finished = false;
  const loop = (async () => {
    while (!stopped) {
      const read = await worker.step();
      stored += (await syncStoreFromBus(bus, store)).inserted;
      if (read > 0) continue;
      // The input has ended once every published event is stored and read: the reorder buffer's last events run.
      if (!finished && stored >= expected) finished = (await worker.releaseHeld(), true);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    tapArgs: [],
    published: () => bus.lag('bench-count', TOPICS.events),
    done: async (events) => {
      expected = events;
      return finished;
    },
    alerts: async () => (await store.alerts({ limit: 1_000_000 })).length,
    close: async () => {
      stopped = true;
      await loop;
      await worker.close();
      state.close();
      await store.close();
      await bus.close();
    },
  };
}

/** Taps publishing to the real Kafka (their tapwire.yaml names this run's topics); two group workers into the real Elasticsearch. */
async function fleetPath(home: string, target: FleetTarget): Promise<PathUnderTest> {
  const config = join(home, 'tapwire.yaml');
  const { brokers, topics } = target.settings;
  writeFileSync(config, ['bus: kafka', 'kafka:', `  brokers: [${(brokers ?? []).join(', ')}]`, '  partitions: 4', '  lingerMs: 2', `  topics: ${JSON.stringify(topics)}`, `spool: { dir: "${join(home, 'spool')}" }`, ''].join('\n'));
  const workers = await startGroupWorkers(target, join(home, 'workers'));
  const admin = new KafkaBus(target.settings, { role: 'command' });
  return {
    tapArgs: ['--config', config],
    published: () => admin.lag('bench-count', TOPICS.events),
    done: async (events) => (await target.documents('messages')) >= events && (await admin.lag(target.group, TOPICS.events)) === 0 && (await admin.lag(target.group, TOPICS.serverEvents)) === 0,
    alerts: async () => {
      await workers.settle();
      return target.documents('alerts');
    },
    close: async () => {
      await workers.stop();
      await admin.close();
      await target.close();
    },
  };
}

const perThousand = (seconds: number, events: number): string => fmt((seconds / events) * 1000, 2);

function row(name: string, run: PathRun, baseline: PathRun): string {
  const { cpu } = run;
  const ours = cpu.taps + cpu.servers + cpu.pipeline + cpu.kafka + cpu.elasticsearch;
  const others = Math.max(0, cpu.machine - ours);
  return `| ${name} | ${fmt(run.events)} | ${fmt(run.events / run.trafficSeconds)} | ${fmt(run.events / run.seconds)} | ${fmt(run.events / run.seconds / (baseline.events / baseline.seconds), 2)}× | ${perThousand(cpu.taps, run.events)} | ${perThousand(cpu.servers, run.events)} | ${perThousand(cpu.pipeline, run.events)} | ${cpu.kafka || cpu.elasticsearch ? `${perThousand(cpu.kafka, run.events)} / ${perThousand(cpu.elasticsearch, run.events)}` : '—'} | ${perThousand(ours, run.events)} | ${fmt(others / run.seconds, 2)} of ${availableParallelism()} | ${fmt(run.alerts)} |`;
}

/** Both paths in one run; the section for BENCHMARKS.md. */
export async function run(): Promise<string> {
  const brokers = process.env.KAFKA_BROKERS?.split(',').filter(Boolean);
  const node = process.env.ELASTICSEARCH_URL;
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-bench-fleet-'));
  try {
    for (const name of ['embedded', 'fleet']) mkdirSync(join(dir, name));
    const embedded = await measure(await embeddedPath(join(dir, 'embedded')), join(dir, 'embedded'));
    const fleet = brokers?.length && node ? await measure(await fleetPath(join(dir, 'fleet'), await realEngines(brokers, node, 'benchtaps')), join(dir, 'fleet')) : undefined;
    return [
      '## From real taps to the store: embedded vs real Kafka + Elasticsearch (issue 11)',
      '',
      machineLine(),
      '',
      `Workload: ${TAPS} \`tapwire tap\` processes, each wrapping the demo's notes server and driven by an SDK client making ${fmt(CALLS_PER_TAP)} tool calls back to back (list, read, write); every detector on (rule pack + stateful detectors). The events are those the taps published (counted on the bus after they exited); a path is done when its store holds them all and the detectors have committed them.`,
      '',
      '| path | events | taps, events/s | end to end into the store, events/s | relative | CPU s / 1000 events: taps | notes servers | this process (SDK clients + pipeline) | Kafka JVM / ES JVM | total | other work on the machine, cores busy | alerts |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
      row('embedded: taps → SQLite bus → detector worker + store sync → SQLite store', embedded, embedded),
      fleet
        ? row('fleet: taps → real Kafka 4.1 (KRaft, 1 node) → 2 group workers → real Elasticsearch 9.4 (1 node)', fleet, embedded)
        : '| fleet | not measured: KAFKA_BROKERS and ELASTICSEARCH_URL unset (scripts/services.sh up) | | | | | | | | | | |',
      '',
      'What shares the 2 cores: the tap processes and the notes servers they wrap, this process (the pipeline: detector workers, bulk writers or store sync), the Kafka and Elasticsearch JVMs (shared with the other engineers on this machine, so their CPU columns include whatever else used the engines in the window), and other engineers\' test runs. "Other work" is the machine\'s busy CPU time in the window minus the processes named here, per second of the window. Wall-clock rates move with that load; the CPU columns and the same-run ratio are the comparable figures.',
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
