/**
 * The fleet path on the real engines, every part a real process: two stdio taps (the demo's notes and weather
 * servers, driven by an SDK client) and the HTTP proxy (in front of an SDK Streamable HTTP server) publish to a real
 * Kafka 4 broker; two `tapwire detect` processes in one consumer group write into the real Elasticsearch.
 *
 * Faults: one worker is SIGKILLed while batches are in flight (its partitions move to the other: a rebalance with
 * uncommitted work); the broker is stopped for 10 s while the traffic goes on (the collectors spool); Elasticsearch is
 * stopped for 10 s while the traffic goes on (the worker holds its batch uncommitted and retries). The broker and the
 * Elasticsearch node are the test's own (test/support/localEngine.ts), so stopping them leaves other tests' alone.
 *
 * What is checked comes from the cluster: every event once, by _id and by content (event.id of every document, so a
 * second copy under another _id would show); every session complete; the alerts the scenario staged (the demo's
 * poisoned description → cross-server data flow, and its rug pull) present, and all alerts equal to what the embedded
 * path's single runtime raises over the same events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as EsClient } from '@elastic/elasticsearch';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_STEPS } from '../../cli/demo/scriptedHost.js';
import { eventFromDocument } from '../../pipeline/elasticsearch/esDocuments.js';
import { installEsTemplates } from '../../pipeline/elasticsearch/esSetup.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { startStreamableServer, type TestHttpServer } from '../http/sdkHttpServers.js';
import { alertDifference, eventsAsTheGroupGotThem, groupReferenceAlerts, idleReleasesIn } from '../kafka/detectionWorkload.js';
import { until } from '../support/until.js';
import { LocalEngine } from '../support/localEngine.js';
import { realElasticsearchUrl, realKafkaBrokers, SKIPPED_WITHOUT_ENGINES } from '../support/realEngines.js';
import { requireBuiltCli } from '../support/tapwireCli.js';
import { recordHandoffs, tappedDemoClient } from '../support/tappedDemoClient.js';

const OUTAGE_MS = 10_000;
// The shared engines' presence says the cached jars and distribution are there to start engines of our own.
const engines = realKafkaBrokers('realEngines.test.ts') && realElasticsearchUrl('realEngines.test.ts');
const namespace = `fleet_${process.pid}`;
const MESSAGES = `logs-mcp.messages-${namespace}`;
const ALERTS = `logs-mcp.alerts-${namespace}`;

let home: string;
let kafka: LocalEngine;
let elasticsearch: LocalEngine;
let es: EsClient;
let upstream: TestHttpServer;
const cleanups: (() => Promise<unknown>)[] = [];

describe.skipIf(!engines)(`taps and proxy → real Kafka → two detect processes → real Elasticsearch${engines ? '' : ` (${SKIPPED_WITHOUT_ENGINES})`}`, () => {
  beforeAll(async () => {
    requireBuiltCli();
    home = mkdtempSync(join(tmpdir(), 'tapwire-fleet-'));
    [kafka, elasticsearch] = await Promise.all([LocalEngine.start('kafka'), LocalEngine.start('elasticsearch')]);
    es = new EsClient({ node: elasticsearch.address });
    await installEsTemplates(es, { namespace });
    upstream = await startStreamableServer({ stateful: true, json: false });
  }, 600_000);

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await upstream?.close();
    await kafka?.dispose();
    await elasticsearch?.dispose();
    await es?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  }, 300_000);

  function writeConfig(): string {
    const file = join(home, 'tapwire.yaml');
    writeFileSync(
      file,
      [
        'bus: kafka',
        'kafka:',
        `  brokers: ["${kafka.address}"]`,
        '  partitions: 4',
        // Within the broker's group.min.session.timeout.ms (6 s by default); the test double accepted 1.5 s.
        '  sessionTimeoutMs: 6000',
        '  heartbeatIntervalMs: 500',
        '  lingerMs: 2',
        'store: elasticsearch',
        'elasticsearch:',
        `  node: "${elasticsearch.address}"`,
        `  namespace: ${namespace}`,
        `spool: { dir: "${join(home, 'spool')}" }`,
        '',
      ].join('\n'),
    );
    return file;
  }

  /** The environment of the product's processes: the file names the test broker, so nothing may override it. */
  function productEnv(): NodeJS.ProcessEnv {
    const { KAFKA_BROKERS: _brokers, ELASTICSEARCH_URL: _url, TAPWIRE_BUS: _bus, TAPWIRE_STORE: _store, TAPWIRE_CONFIG: _config, ...rest } = process.env;
    return rest;
  }

  /** Members of the detectors group once it is stable, as the broker reports them (-1 while it rebalances). */
  async function groupMembers(): Promise<number> {
    const admin = new Kafka({ brokers: [kafka.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups(['detectors']);
      return groups[0]?.state === 'Stable' ? groups[0].members.length : -1;
    } finally {
      await admin.disconnect();
    }
  }

  /** A `tapwire detect` group member; its log at debug level holds the idle releases the reference follows. */
  function startDetect(config: string): { child: ChildProcess; exited: Promise<number | null>; log: string[] } {
    const log: string[] = [];
    const child = spawn(process.execPath, [requireBuiltCli(), 'detect', '--home', home, '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...productEnv(), TAPWIRE_LOG_LEVEL: 'debug' } });
    child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    return { child, exited, log };
  }

  async function tappedClient(name: string, module: string, config: string, stderr: string[]): Promise<Client> {
    const client = await tappedDemoClient({ home, config, name, module, stderr, clientName: 'fleet-host' });
    cleanups.push(() => client.close());
    return client;
  }


  async function startProxy(config: string, stderr: string[]): Promise<{ url: string; stop(): Promise<void> }> {
    const child = spawn(process.execPath, [requireBuiltCli(), 'proxy', '--listen', '127.0.0.1:0', '--upstream', upstream.url, '--name', 'kitchen', '--home', home], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...productEnv(), TAPWIRE_CONFIG: config },
    });
    child.stdout.resume();
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    };
    cleanups.push(stop);
    await until(() => /listening on (\S+)/.test(stderr.join('')), 'the proxy to listen', 30_000);
    const url = /listening on (\S+)/.exec(stderr.join(''))![1]!;
    return { url: new URL(new URL(upstream.url).pathname, url).href, stop };
  }

  async function echoes(client: Client, prefix: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) await client.callTool({ name: 'echo', arguments: { text: `${prefix}-${i}` } });
  }

  /** Every document of a data stream, with its _id, straight from the cluster ([] while its first shard starts). */
  async function documents(index: string): Promise<{ id: string; source: Record<string, unknown> }[]> {
    try {
      await es.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
      const response = await es.search<Record<string, unknown>>({ index, size: 10_000, ignore_unavailable: true, allow_no_indices: true, query: { match_all: {} } });
      return response.hits.hits.map((hit) => ({ id: hit._id!, source: hit._source! }));
    } catch (error) {
      if (/no_shard_available_action_exception/.test(String((error as Error).message) + JSON.stringify((error as { body?: unknown }).body ?? ''))) return [];
      throw error;
    }
  }

  function bySession(events: readonly McpEvent[]): Map<string, McpEvent[]> {
    const sessions = new Map<string, McpEvent[]>();
    for (const event of events) sessions.set(event.mcp.session.id, [...(sessions.get(event.mcp.session.id) ?? []), event]);
    return sessions;
  }

  /** A session's events are all there: a session.end, and sequences 0..n-1 without a gap or a repeat. */
  function complete(events: readonly McpEvent[]): boolean {
    const sequences = new Set(events.map((e) => e.event.sequence));
    return events.some((e) => e.event.action === 'session.end') && sequences.size === events.length && Math.max(...sequences) === events.length - 1;
  }

  it('stores every event and alert exactly once through a SIGKILLed worker, a 10 s broker outage and a 10 s Elasticsearch outage', async () => {
    const config = writeConfig();
    const doomed = startDetect(config);
    const survivor = startDetect(config);
    await until(async () => (await groupMembers()) === 2, 'two workers in the group', 120_000);

    const stderr: string[] = [];
    const proxy = await startProxy(config, stderr);
    const clients = { notes: await tappedClient('notes', 'notesServer.js', config, stderr), weather: await tappedClient('weather', 'weatherServer.js', config, stderr) };
    const http = new Client({ name: 'fleet-http-host', version: '1.0.0' });
    await http.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    const memory: Record<string, string> = {};
    const demo = DEMO_STEPS.filter((step) => !step.act.toString().includes('notes-backup'));

    await demo[0]!.act({ clients, memory });
    await echoes(http, 'warm-up', 10);
    await until(async () => (await documents(MESSAGES)).length > 0, 'the first events in Elasticsearch', 60_000);
    // The doomed worker dies (SIGKILL: no commit, no leave) while a burst is in flight.
    const burst = Promise.all([echoes(http, 'burst', 40), demo[1]!.act({ clients, memory })]);
    doomed.child.kill('SIGKILL');
    await burst;
    expect(await doomed.exited).toBeNull();
    await demo[2]!.act({ clients, memory });
    await until(async () => (await groupMembers()) === 1, 'the group to rebalance onto the survivor', 60_000);

    const outageStart = Date.now();
    await kafka.stop();
    for (const step of demo.slice(3)) await step.act({ clients, memory });
    await echoes(http, 'during-outage', 20);
    await until(() => stderr.join('').includes('events go to the spool'), 'the collectors to spool', 60_000);
    // The outage lasts 10 s of the scenario's time; nothing below depends on how long anything took.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    await kafka.up();
    await echoes(http, 'after-outage', 5);
    // Generous: after the outage each collector's drain waits out its backoff and kafkajs' reconnect, slow on a loaded machine.
    await until(() => (stderr.join('').match(/spooled events delivered/g) ?? []).length >= 3, () => `the three collectors to drain their spools; their stderr:\n${stderr.join('')}`, 600_000);

    // Elasticsearch away for 10 s while traffic goes on: the worker keeps its batch uncommitted and retries.
    const before = (await documents(MESSAGES)).length;
    const esOutageStart = Date.now();
    await elasticsearch.stop();
    await echoes(http, 'es-outage', 20);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - esOutageStart))));
    await elasticsearch.up();
    await until(async () => (await documents(MESSAGES)).length > before, 'writes to resume after the Elasticsearch outage', 120_000);

    await http.close();
    await Promise.all(Object.values(clients).map((client) => client.close()));
    await proxy.stop();
    await recordHandoffs(home, { brokers: [kafka.address] });

    // Two stdio sessions, one HTTP session, and the proxy's own: each complete in the cluster.
    await until(async () => {
      const sessions = bySession((await documents(MESSAGES)).map((d) => eventFromDocument(d.source)));
      return sessions.size === 4 && [...sessions.values()].every(complete);
    }, 'every session complete in Elasticsearch', 180_000);
    const stored = await documents(MESSAGES);
    const events = stored.map((d) => eventFromDocument(d.source));
    // Exactly once, by _id and by content.
    expect(new Set(stored.map((d) => d.id)).size).toBe(stored.length);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(stored.length);
    expect((await es.count({ index: MESSAGES })).count).toBe(stored.length);
    for (const end of events.filter((e) => e.event.action === 'session.end')) expect(end.mcp.tap?.dropped ?? 0).toBe(0);
    const proxyEnd = events.find((e) => e.event.action === 'session.end' && e.mcp.server.name === 'tapwire-proxy')!;
    expect(events.filter((e) => e.observer?.type === 'http_tap')).toHaveLength(proxyEnd.mcp.tap!.events!);

    // The attacks the demo stages, then every alert of the reference over the events as the group got them, each once
    // (groupReferenceAlerts says why it follows the workers' idle releases).
    const embedded = groupReferenceAlerts(await eventsAsTheGroupGotThem({ brokers: [kafka.address] }), idleReleasesIn([doomed.log, survivor.log].map((log) => log.join('')).join('\n')));
    const expectedIds = [...new Set(embedded.map((a) => a.alert.fingerprint))].sort();
    let storedAlerts: McpAlert[] = [];
    await until(async () => (storedAlerts = (await documents(ALERTS)).map((d) => d.source as unknown as McpAlert)).length >= expectedIds.length, () => `every alert in Elasticsearch; ${alertDifference(embedded, storedAlerts)}`, 300_000);
    const alerts = await documents(ALERTS);
    const staged = alerts.map((d) => (d.source as { rule: { id: string } }).rule.id);
    expect(staged).toEqual(expect.arrayContaining(['tapwire.cross-server.data-flow', 'tapwire.tool-drift.tool-changed']));
    expect(alerts.map((d) => d.id).sort(), alertDifference(embedded, alerts.map((d) => d.source as unknown as McpAlert))).toEqual(expectedIds);
    expect(new Set(alerts.map((d) => (d.source as { alert: { fingerprint: string } }).alert.fingerprint)).size).toBe(alerts.length);

    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
  }, 1_800_000);
});
