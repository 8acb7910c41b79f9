/**
 * The fleet path end to end on the WIRE-PROTOCOL DOUBLE, kept for the one fault a real broker cannot produce on
 * demand: a worker cut off from the network (`broker.shun`) while its process lives on, so its session expires while
 * it still believes it owns its partitions. The same path on the real engines (SIGKILL, broker and Elasticsearch
 * outages, counted from the cluster) is test/fleet/realEngines.test.ts.
 *
 * Two stdio taps (the demo's notes and weather servers, driven by an SDK client) and the HTTP proxy (in front of an
 * SDK Streamable HTTP server) publish to the Kafka test broker; two detector workers in one consumer group write into
 * Elasticsearch (the mock cluster, capturing bulk bodies). Every event and every alert must land in the sink once.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexedTextFields } from '../../service/configuredStore.js';
import { DEMO_STEPS } from '../../cli/demo/scriptedHost.js';
import { loadDetection } from '../../service/detectionSetup.js';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import { GroupDetectWorker } from '../../service/groupDetectWorker.js';
import { eventFromDocument } from '../../pipeline/elasticsearch/esDocuments.js';
import { EsStore } from '../../pipeline/elasticsearch/esStore.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { MockCluster } from '../elasticsearch/mockCluster.js';
import { startStreamableServer, type TestHttpServer } from '../http/sdkHttpServers.js';
import { KafkaTestBroker } from '../support/kafkaTestBroker.js';
import { recordHandoffs, tappedDemoClient } from '../support/tappedDemoClient.js';
import { requireBuiltCli } from '../support/tapwireCli.js';
import { alertDifference, eventsAsTheGroupGotThem, groupReferenceAlerts, idleReleasesIn } from './detectionWorkload.js';
import { until } from '../support/until.js';

const OUTAGE_MS = 10_000;
const MESSAGES = 'logs-mcp.messages-default';
const ALERTS = 'logs-mcp.alerts-default';

let home: string;
let broker: KafkaTestBroker;
let cluster: MockCluster;
let upstream: TestHttpServer;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  requireBuiltCli();
  home = mkdtempSync(join(tmpdir(), 'tapwire-e2e-'));
  broker = await KafkaTestBroker.start({ autoCreateTopics: false });
  cluster = new MockCluster();
  upstream = await startStreamableServer({ stateful: true, json: false });
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await upstream.close();
  await broker.stop();
  rmSync(home, { recursive: true, force: true });
});

function writeConfig(): string {
  const file = join(home, 'tapwire.yaml');
  writeFileSync(file, ['bus: kafka', 'kafka:', `  brokers: ["${broker.brokers[0]}"]`, '  partitions: 4', '  sessionTimeoutMs: 1500', '  heartbeatIntervalMs: 200', '  lingerMs: 2', `spool: { dir: "${join(home, 'spool')}" }`, ''].join('\n'));
  return file;
}

/** What the workers log at debug level: the idle releases the reference follows. */
const workerLog: string[] = [];

/** A detector worker of group "detectors" whose sink is the mock Elasticsearch cluster. */
async function startWorker(name: string): Promise<GroupDetectWorker> {
  const bus = new KafkaBus({ brokers: broker.brokers, partitions: 4, sessionTimeoutMs: 1500, heartbeatIntervalMs: 200, lingerMs: 2 }, { role: 'worker', clientId: name });
  const store = new EsStore(cluster.client(), { textFieldsOf: indexedTextFields, flushIntervalMs: 50 });
  const worker = new GroupDetectWorker({
    bus,
    store,
    releaseIntervalMs: 250,
    logger: pino({ level: 'debug' }, { write: (line: string) => workerLog.push(line) }),
    openState: (topic, partition) => new EmbeddedStateStore(join(home, `state-${topic}.${partition}.sqlite`)),
    createRuntime: (state, partitionBy) => loadDetection(state, { partitionBy }).runtime,
  });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop();
    await store.close();
    await bus.close();
  });
  return worker;
}

/** An SDK client on a demo server behind `tapwire tap --config`. */
function tappedClient(name: string, module: string, config: string, stderr: string[]): Promise<Client> {
  return tappedDemoClient({ home, config, name, module, stderr, clientName: 'e2e-host' });
}

/** `tapwire proxy` in front of the upstream, selecting the Kafka bus through TAPWIRE_CONFIG. */
async function startProxy(config: string, stderr: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [requireBuiltCli(), 'proxy', '--listen', '127.0.0.1:0', '--upstream', upstream.url, '--name', 'kitchen', '--home', home], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TAPWIRE_CONFIG: config },
  });
  child.stdout.resume();
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  await until(() => /listening on (\S+)/.test(stderr.join('')), 'the proxy to listen');
  const url = /listening on (\S+)/.exec(stderr.join(''))![1]!;
  return {
    url: new URL(new URL(upstream.url).pathname, url).href,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function httpClient(url: string): Promise<Client> {
  const client = new Client({ name: 'e2e-http-host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

async function echoes(client: Client, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await client.callTool({ name: 'echo', arguments: { text: `${prefix}-${i}` } });
}

/** Every event the sink holds, by session. */
function sinkSessions(): Map<string, McpEvent[]> {
  const sessions = new Map<string, McpEvent[]>();
  for (const document of cluster.documents(MESSAGES)) {
    const event = eventFromDocument(document);
    const list = sessions.get(event.mcp.session.id) ?? [];
    list.push(event);
    sessions.set(event.mcp.session.id, list);
  }
  return sessions;
}

/** Whether a session's events are all there: a session.end, and sequences 0..n-1 without a gap. */
function complete(events: readonly McpEvent[]): boolean {
  const sequences = new Set(events.map((e) => e.event.sequence));
  return events.some((e) => e.event.action === 'session.end') && sequences.size === events.length && Math.max(...sequences) === events.length - 1;
}

describe('taps and proxy → Kafka wire-protocol double → detector group → Elasticsearch mock (a worker cut off from the network)', () => {
  it('delivers every event and alert exactly once through a worker loss and a 10 s broker outage', async () => {
    const config = writeConfig();
    const doomed = await startWorker('worker-doomed');
    const survivor = await startWorker('worker-survivor');
    await until(() => broker.groupMembers('detectors').length === 2, 'two workers in the group');

    const stderr: string[] = [];
    const proxy = await startProxy(config, stderr);
    cleanups.push(() => proxy.stop());
    const clients = { notes: await tappedClient('notes', 'notesServer.js', config, stderr), weather: await tappedClient('weather', 'weatherServer.js', config, stderr) };
    const http = await httpClient(proxy.url);
    const memory: Record<string, string> = {};
    const demo = DEMO_STEPS.filter((step) => !step.act.toString().includes('notes-backup'));

    await demo[0]!.act({ clients, memory });
    await echoes(http, 'warm-up', 10);
    // A burst, then the doomed worker is cut off while it works through it.
    await Promise.all([echoes(http, 'burst', 30), demo[1]!.act({ clients, memory })]);
    broker.shun('worker-doomed');
    await demo[2]!.act({ clients, memory });
    await until(() => broker.groupMembers('detectors').length === 1, 'the group to drop the lost worker');

    const outageStart = Date.now();
    await broker.stop();
    for (const step of demo.slice(3)) await step.act({ clients, memory });
    await echoes(http, 'during-outage', 20);
    await until(() => stderr.join('').includes('events go to the spool'), 'the collectors to spool', OUTAGE_MS);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    await broker.start();
    await echoes(http, 'after-outage', 5);
    // Generous: after the outage each collector's drain waits out its backoff and kafkajs' reconnect, slow on a loaded machine.
    await until(() => (stderr.join('').match(/spooled events delivered/g) ?? []).length >= 3, () => `the three collectors to drain their spools; their stderr:\n${stderr.join('')}`, 600_000);

    await http.close();
    await Promise.all(Object.values(clients).map((client) => client.close()));
    await proxy.stop();
    await recordHandoffs(home, { brokers: broker.brokers });

    // Two stdio sessions, one HTTP session, and the proxy's own: each complete, none with drops.
    await until(() => {
      const sessions = sinkSessions();
      return sessions.size === 4 && [...sessions.values()].every(complete);
    }, () => `every session complete in the sink; it holds ${[...sinkSessions().values()].map((events) => `${events[0]!.mcp.server.name}: ${events.length} events, sequences up to ${Math.max(...events.map((e) => e.event.sequence))}, ${events.some((e) => e.event.action === 'session.end') ? 'ended' : 'no end'}`).join('; ')}\n${stderr.join('')}`);
    const sessions = sinkSessions();
    const events = [...sessions.values()].flat();
    for (const end of events.filter((e) => e.event.action === 'session.end')) expect(end.mcp.tap?.dropped ?? 0).toBe(0);
    const proxyEnd = events.find((e) => e.event.action === 'session.end' && e.mcp.server.name === 'tapwire-proxy')!;
    expect(events.filter((e) => e.observer?.type === 'http_tap')).toHaveLength(proxyEnd.mcp.tap!.events!);

    // The alerts of the reference over the same events in the order the group got them, each once, including the
    // attack and the rug pull. In that order, not in event time: the collectors spooled through the outage and drained
    // one after another, so a tap's events can reach the bus later than the reorder window covers, and a correlation
    // across servers then sees them late, in the group as in any one runtime (groupReferenceAlerts says why it
    // follows the workers' idle releases).
    const expected = groupReferenceAlerts(await eventsAsTheGroupGotThem({ brokers: broker.brokers }), idleReleasesIn(workerLog.join('')));
    const expectedIds = [...new Set(expected.map((a) => a.alert.fingerprint))].sort();
    await until(() => cluster.documents(ALERTS).length >= expectedIds.length, () => `every alert in the sink; ${alertDifference(expected, cluster.documents(ALERTS) as unknown as McpAlert[])}`);
    const sinkAlerts = cluster.documents(ALERTS) as { alert: { fingerprint: string }; rule: { id: string }; mcp?: { server?: { name?: string } } }[];
    expect(sinkAlerts.map((a) => a.alert.fingerprint).sort(), alertDifference(expected, sinkAlerts as unknown as McpAlert[])).toEqual(expectedIds);
    // What the demo stages, from the scenario: the weather server's rug pull, and data flowing across servers.
    expect(sinkAlerts.filter((a) => a.rule.id === 'tapwire.tool-drift.tool-changed').map((a) => a.mcp?.server?.name)).toContain('weather');
    expect(sinkAlerts.some((a) => a.rule.id === 'tapwire.cross-server.data-flow')).toBe(true);

    // The bulk bodies, counted rather than collected into a set: every event was sent, and each id sent more than once
    // (the at-least-once of the worker loss) was refused as a conflict, so the sink holds each exactly once.
    const creates = cluster.bulkBodies.flatMap((lines) => lines.filter((_, i) => i % 2 === 0)) as { create: { _index: string; _id: string } }[];
    const eventCreates = creates.filter((c) => c.create._index === MESSAGES).map((c) => c.create._id);
    expect(new Set(eventCreates)).toEqual(new Set(events.map((e) => e.event.id)));
    const repeatedCreates = eventCreates.length - new Set(eventCreates).size;
    expect(cluster.documents(MESSAGES)).toHaveLength(eventCreates.length - repeatedCreates);
    const alertCreates = creates.filter((c) => c.create._index === ALERTS).map((c) => c.create._id);
    expect(cluster.documents(ALERTS)).toHaveLength(new Set(alertCreates).size);
    process.stderr.write(`end-to-end sink: ${repeatedCreates} repeated event creates and ${alertCreates.length - new Set(alertCreates).size} repeated alert creates, refused as conflicts\n`);
    expect(doomed.totals.batches + survivor.totals.batches).toBeGreaterThan(0);
    broker.readmit('worker-doomed');
  }, 1_200_000);
});
