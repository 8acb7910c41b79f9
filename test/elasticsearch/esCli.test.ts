import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecordingHttpServer, type RecordedHttpRequest, type RecordingHttpServer } from '../support/recordingHttpServer.js';
import { runCli, tempHome } from '../support/tapwireCli.js';
import { makeAlert } from './alertFixtures.js';

const T0 = Date.UTC(2026, 0, 1);
const ALERT = makeAlert('f', { time: T0, severity: 99, serverId: 'npx weather', serverName: 'weather' });

/** A cluster as the client sees it over HTTP: acknowledges setup requests, and answers searches with fixed results. */
function elasticsearch(request: RecordedHttpRequest): { body: unknown; headers: Record<string, string> } {
  const headers = { 'x-elastic-product': 'Elasticsearch' };
  const body = request.body.length > 0 ? (JSON.parse(request.body.toString()) as { aggs?: Record<string, unknown> }) : {};
  if (request.url.startsWith('/_nodes')) {
    // A node of a default distribution: every module and ingest processor Tapwire's templates use.
    const modules = ['data-streams', 'mapper-extras', 'wildcard', 'constant-keyword', 'ingest-common'].map((name) => ({ name }));
    return { headers, body: { nodes: { n1: { modules, ingest: { processors: [{ type: 'set' }] } } } } };
  }
  if (request.url.startsWith('/logs-mcp.alerts-default/_search')) {
    return { headers, body: { hits: { hits: [{ _index: '.ds-a', _id: 'f', _source: ALERT, sort: [T0, 'f'] }] } } };
  }
  if (request.url.startsWith('/logs-mcp.messages-default/_search') && body.aggs?.sessions) {
    const hit = (source: object): object => ({ hits: { hits: [{ _source: source }] } });
    const none = { doc_count: 0, hit: { hits: { hits: [] } } };
    const bucket = {
      key: 'sess-weather-1',
      first_seen: { value: T0 },
      last_seen: { value: T0 + 9 },
      events: { value: 9 },
      ended: { doc_count: 1 },
      latest: hit({ mcp: { server: { id: 'npx weather', name: 'weather' }, transport: 'stdio' }, host: { hostname: 'ws-7' } }),
      host_session: none,
      server_version: none,
      client_name: { doc_count: 1, hit: hit({ mcp: { client: { name: 'cursor' } } }) },
      client_version: none,
      protocol_version: none,
      pid: none,
    };
    return { headers, body: { hits: { hits: [] }, aggregations: { sessions: { buckets: [bucket] } } } };
  }
  return { headers, body: { acknowledged: true } };
}

let cluster: RecordingHttpServer;
let home: ReturnType<typeof tempHome>;
let config: string;

beforeAll(async () => {
  cluster = await startRecordingHttpServer(elasticsearch);
  home = tempHome('tapwire-es-cli-');
  config = join(home.home, 'tapwire.yaml');
  writeFileSync(config, `store: elasticsearch\nelasticsearch:\n  node: ${cluster.url}\n  apiKey: \${TEST_ES_KEY}\n  retentionDays: 7\n`);
});

afterAll(async () => {
  await cluster.close();
  home.remove();
});

const env = { TEST_ES_KEY: 'c2VjcmV0', TAPWIRE_CONFIG: '', ELASTICSEARCH_URL: '' };

describe('tapwire es setup', () => {
  it('installs everything on the configured cluster, with its credentials and retention', async () => {
    cluster.requests.length = 0;
    const result = await runCli(['es', 'setup', '--config', config], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain('index template logs-mcp.alerts (priority 250, retention 7d)\n');
    expect(result.stdout.toString()).toContain(`Elasticsearch at ${cluster.url} is ready for Tapwire.`);
    expect(cluster.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toContain('PUT /_index_template/logs-mcp.messages');
    for (const request of cluster.requests) expect(request.headers.authorization).toBe('ApiKey c2VjcmV0');
    const template = cluster.requests.find((r) => r.url.startsWith('/_index_template/logs-mcp.alerts'))!;
    expect(JSON.parse(template.body.toString())).toMatchObject({ priority: 250, template: { lifecycle: { data_retention: '7d' } } });
  });

  it('prints the requests without sending them with --dry-run, and says what is missing without a cluster', async () => {
    cluster.requests.length = 0;
    const dry = await runCli(['es', 'setup', '--config', config, '--namespace', 'prod', '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout.toString())).toMatchObject({ positionsIndex: { index: 'tapwire-positions-prod' } });
    expect(cluster.requests).toEqual([]);

    const bare = join(home.home, 'bare.yaml');
    writeFileSync(bare, 'bus: embedded\n');
    const missing = await runCli(['es', 'setup', '--config', bare], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`tapwire es: no Elasticsearch configured: set elasticsearch.node in ${bare} or ELASTICSEARCH_URL\n`);
    expect((await runCli(['es', 'teardown'], { env })).stderr).toMatch(/unknown subcommand 'teardown' \(expected setup\)/);
  });
});

describe('query commands on the Elasticsearch store', () => {
  it('list alerts with --store es', async () => {
    cluster.requests.length = 0;
    const bare = join(home.home, 'embedded.yaml');
    writeFileSync(bare, `store: embedded\nelasticsearch:\n  node: ${cluster.url}\n  apiKey: k\n`);
    const result = await runCli(['alerts', '--store', 'es', '--config', bare, '--severity', 'critical', '--json'], { env });
    expect(result.stderr).toBe('');
    expect(result.stdout.toString()).toBe(`${JSON.stringify(ALERT)}\n`);
    const search = JSON.parse(cluster.requests.find((r) => r.url.startsWith('/logs-mcp.alerts-default/_search'))!.body.toString()) as { query: unknown; size: number };
    expect(search.query).toEqual({ bool: { filter: [{ range: { 'event.severity': { gte: 99 } } }] } });
    expect(search.size).toBe(1000);
  });

  it('use the store the config selects', async () => {
    const result = await runCli(['sessions', '--config', config], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(/sess-weather-1\s+weather\s+.*stdio\s+cursor\s+.*9\s+.*ended/);
  });
});

describe('tapwire kibana import', () => {
  it('loads the shipped objects and rule with the credentials from the environment', async () => {
    const kibana = await startRecordingHttpServer((request) =>
      request.url.includes('detection_engine') ? { body: { success: true, success_count: 1, errors: [] } } : { body: { success: true, successCount: 1 } },
    );
    try {
      const result = await runCli(['kibana', 'import', '--url', kibana.url], { env: { ...env, KIBANA_USERNAME: 'soc', KIBANA_PASSWORD: 'pw' } });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.toString()).toMatch(/imported 1 from .*deploy\/kibana\/detection-rules\.ndjson\n/);
      expect(kibana.requests).toHaveLength(4);
      expect(kibana.requests.every((r) => r.headers.authorization === `Basic ${Buffer.from('soc:pw').toString('base64')}`)).toBe(true);
    } finally {
      await kibana.close();
    }
  });
});
