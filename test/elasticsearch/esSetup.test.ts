import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { estypes } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { elasticFieldOf } from '../../detectors/sigma/elasticFieldTypes.js';
import { exportKibanaRules } from '../../detectors/sigma/kibanaExport.js';
import { INDEXED_TEXT_FIELDS, MESSAGES_MAPPINGS } from '../../pipeline/elasticsearch/esMappings.js';
import { esNames } from '../../pipeline/elasticsearch/esNames.js';
import { esSetupRequests, installEsTemplates, TEMPLATE_PRIORITY } from '../../pipeline/elasticsearch/esSetup.js';
import { packageRoot } from '../../pipeline/packagePaths.js';
import { ALERT_FIELDS, MESSAGE_FIELDS } from './mappedFields.js';
import { mockErrors, MockCluster } from './mockCluster.js';

/** The modules a default 9.x distribution runs that setup looks for (a subset of the ~90 it has). */
const DEFAULT_MODULES = ['data-streams', 'ingest-common', 'mapper-extras', 'wildcard', 'constant-keyword', 'x-pack-core'];
/** Every module of Maven Central's integ-test-zip 9.4.3, as its modules/ folder lists them. */
const INTEG_TEST_ZIP_MODULES = ['apm', 'transport-netty4', 'x-pack-core', 'x-pack-security'];

/** The component and index templates setup installs on any cluster, in order. */
const TEMPLATE_REQUESTS = [
  'PUT /_component_template/tapwire@settings',
  'PUT /_component_template/tapwire-ecs@mappings',
  'PUT /_component_template/tapwire-mcp.messages@mappings',
  'PUT /_component_template/tapwire-mcp.alerts@mappings',
  'PUT /_index_template/logs-mcp.messages',
  'PUT /_index_template/logs-mcp.alerts',
];

/** A cluster that accepts every setup request, and refuses to create what already exists when `existing` says so. */
function setupCluster(existing = false, modules = DEFAULT_MODULES): MockCluster {
  const cluster = new MockCluster();
  const processors = modules.includes('ingest-common') ? ['set', 'set_security_user'] : ['set_security_user'];
  cluster.on('GET', '/_nodes/:metric', () => ({
    nodes: { n1: { modules: modules.map((name) => ({ name })), plugins: [], ingest: { processors: processors.map((type) => ({ type })) } } },
  }));
  const exists = (type: string) => () =>
    new mockErrors.ResponseError({ statusCode: 400, body: { error: { type, reason: 'already exists' }, status: 400 }, headers: {}, warnings: [], meta: {} as never });
  cluster.on('PUT', '/_ingest/pipeline/:id', () => ({ acknowledged: true }));
  cluster.on('PUT', '/_component_template/:name', () => ({ acknowledged: true }));
  cluster.on('PUT', '/_index_template/:name', () => ({ acknowledged: true }));
  cluster.on('PUT', '/_data_stream/:name', existing ? exists('resource_already_exists_exception') : () => ({ acknowledged: true }));
  cluster.on('POST', '/:alias/_rollover', () => ({ acknowledged: true, rolled_over: false, lazy: true }));
  cluster.on('PUT', '/:index', existing ? exists('resource_already_exists_exception') : () => ({ acknowledged: true }));
  return cluster;
}

describe('tapwire es setup', () => {
  it('installs the pipeline, component templates and index templates with these request bodies', async () => {
    const cluster = setupCluster();
    const report = await installEsTemplates(cluster.client(), { namespace: 'prod', retentionDays: 30 });

    expect(cluster.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /_nodes/plugins,ingest',
      'PUT /_ingest/pipeline/tapwire-mcp@final',
      ...TEMPLATE_REQUESTS,
      'PUT /_data_stream/logs-mcp.messages-prod',
      'PUT /_data_stream/logs-mcp.alerts-prod',
      'PUT /tapwire-positions-prod',
    ]);
    const body = (path: string): Record<string, unknown> => cluster.requests.find((r) => r.path === path)!.body as Record<string, unknown>;
    expect(body('/_index_template/logs-mcp.messages')).toMatchObject({
      index_patterns: ['logs-mcp.messages-*'],
      data_stream: {},
      priority: TEMPLATE_PRIORITY,
      composed_of: ['tapwire@settings', 'tapwire-ecs@mappings', 'tapwire-mcp.messages@mappings', 'logs-mcp.messages@custom'],
      ignore_missing_component_templates: ['logs-mcp.messages@custom'],
      template: { lifecycle: { data_retention: '30d' } },
    });
    expect(TEMPLATE_PRIORITY).toBeGreaterThan(200);
    expect(body('/_index_template/logs-mcp.alerts')).toMatchObject({ index_patterns: ['logs-mcp.alerts-*'], template: { lifecycle: { data_retention: '30d' } } });
    expect(body('/_component_template/tapwire@settings')).toMatchObject({
      template: { settings: { 'index.mode': 'standard', 'index.final_pipeline': 'tapwire-mcp@final' } },
    });
    expect(body('/_ingest/pipeline/tapwire-mcp@final')).toMatchObject({
      processors: [{ set: { field: 'event.ingested', value: '{{{_ingest.timestamp}}}' } }],
    });
    const messages = body('/_component_template/tapwire-mcp.messages@mappings') as { template: { mappings: estypes.MappingTypeMapping } };
    expect(messages.template.mappings).toEqual(JSON.parse(JSON.stringify(MESSAGES_MAPPINGS)));
    expect(report).toContain('index template logs-mcp.messages (priority 250, retention 30d)');
  });

  it('leaves retention out when none is configured, and rejects a namespace Elasticsearch would refuse', () => {
    const requests = esSetupRequests({});
    expect(requests.indexTemplates.map((t) => t.template?.lifecycle)).toEqual([{}, {}]);
    expect(requests.positionsIndex.index).toBe('tapwire-positions-default');
    expect(() => esNames('Prod-1')).toThrow("elasticsearch.namespace: 'Prod-1' must be 1-100 of a-z, 0-9 and _");
  });

  it('runs again on a set-up cluster: existing data streams roll over lazily to pick up the templates', async () => {
    const cluster = setupCluster(true);
    const report = await installEsTemplates(cluster.client(), {});
    expect(cluster.requestsTo('POST', '/logs-mcp.messages-default/_rollover')).toHaveLength(1);
    expect(cluster.requestsTo('POST', '/logs-mcp.messages-default/_rollover')[0]!.querystring).toEqual({ lazy: 'true' });
    expect(report).toContain('index tapwire-positions-default exists');
  });

  it('on a stripped distribution, installs the nearest equivalents and names each one', async () => {
    const cluster = setupCluster(false, INTEG_TEST_ZIP_MODULES);
    cluster.on('POST', '/:alias/_rollover', () =>
      new mockErrors.ResponseError({ statusCode: 404, body: { error: { type: 'index_not_found_exception', reason: 'no such index' }, status: 404 }, headers: {}, warnings: [], meta: {} as never }),
    );
    const report = await installEsTemplates(cluster.client(), { namespace: 'ci', retentionDays: 7 });

    expect(cluster.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /_nodes/plugins,ingest',
      ...TEMPLATE_REQUESTS,
      'POST /logs-mcp.messages-ci/_rollover',
      'POST /logs-mcp.alerts-ci/_rollover',
      'PUT /tapwire-positions-ci',
    ]);
    const body = (path: string) => cluster.requests.find((r) => r.path === path)!.body as { template: Record<string, unknown> };
    expect(body('/_component_template/tapwire@settings').template.settings).not.toHaveProperty(['index.final_pipeline']);
    expect(body('/_index_template/logs-mcp.messages').template.lifecycle).toEqual({});
    const mapped = JSON.stringify([body('/_component_template/tapwire-ecs@mappings'), body('/_component_template/tapwire-mcp.messages@mappings')]);
    for (const missing of ['match_only_text', 'wildcard', 'constant_keyword']) expect(mapped).not.toContain(`"${missing}"`);
    expect(report.filter((line) => line.startsWith('this cluster has no'))).toHaveLength(5);
    expect(report).toContain('index template logs-mcp.messages (priority 250, retention not enforced here)');
    expect(report).toContain('data stream logs-mcp.alerts-ci will be created by its first write');
  });

  it('reports what Elasticsearch refused', async () => {
    const cluster = setupCluster();
    cluster.on('PUT', '/_index_template/:name', () =>
      new mockErrors.ResponseError({ statusCode: 403, body: { error: { type: 'security_exception', reason: 'action [indices:admin/index_template/put] is unauthorized' }, status: 403 }, headers: {}, warnings: [], meta: {} as never }),
    );
    await expect(installEsTemplates(cluster.client(), {})).rejects.toThrow(/security_exception/);
  });
});

describe('field types', () => {
  it('map every event field as the Kibana rule exporter assumes', () => {
    const schema = JSON.parse(readFileSync(join(packageRoot(), 'pipeline', 'schemas', 'event.schema.json'), 'utf8')) as Record<string, unknown>;
    const declared: string[] = [];
    const resolve = (node: Record<string, unknown>): Record<string, unknown> =>
      typeof node.$ref === 'string' ? resolve((schema.$defs as Record<string, Record<string, unknown>>)[node.$ref.replace('#/$defs/', '')]!) : node;
    const visit = (path: string, raw: Record<string, unknown>): void => {
      const node = resolve(raw);
      if (node.items) return visit(path, node.items as Record<string, unknown>);
      if (path !== '') declared.push(path);
      for (const [key, child] of Object.entries((node.properties as Record<string, Record<string, unknown>>) ?? {})) visit(path ? `${path}.${key}` : key, child);
    };
    visit('', schema);
    // The same Elasticsearch family: a constant_keyword is queried as a keyword.
    const family = (type: string): string => (type === 'constant_keyword' ? 'keyword' : type);
    const disagreements: string[] = [];
    for (const path of [...declared, ...INDEXED_TEXT_FIELDS]) {
      const expected = elasticFieldOf(path);
      if ('missing' in expected) {
        disagreements.push(`${path}: ${expected.missing}`);
        continue;
      }
      if (expected.type === 'object') continue;
      const mapped = MESSAGE_FIELDS.get(path);
      if (mapped === undefined) {
        // Objects ECS leaves open (url, http, source, user_agent) are mapped field by field, the rest dynamically.
        if (!['url', 'http', 'source', 'user_agent'].includes(path)) disagreements.push(`${path}: not mapped (exporter says ${expected.type})`);
      } else if (family(mapped) !== expected.type) {
        disagreements.push(`${path}: mapped ${mapped}, exporter says ${expected.type}`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(MESSAGE_FIELDS.get('mcp.text.descriptions')).toBe('wildcard');
    expect(MESSAGE_FIELDS.get('source.ip')).toBe('ip');
  });

  it('map the alert fields the promotion rule and dashboards read', () => {
    expect(ALERT_FIELDS.get('event.severity')).toBe('long');
    expect(ALERT_FIELDS.get('event.risk_score')).toBe('float');
    expect(ALERT_FIELDS.get('rule.name')).toBe('keyword');
    expect(ALERT_FIELDS.get('event.ingested')).toBe('date');
    expect(ALERT_FIELDS.get('alert.details')).toBe('flattened');
  });

  it('let a Sigma rule on an indexed description field export to Kibana, as a case-folded Lucene regular expression over the wildcard field', () => {
    const rule = [
      'title: Hidden instructions in a tool description',
      'id: 6f1b1a52-0c4c-4f55-9a3e-2b7f7c1d0e11',
      'status: test',
      'description: A tool description addresses the model.',
      'author: Tapwire',
      'date: 2026-01-01',
      'level: high',
      'tags:',
      '  - tapwire.category.tool_poisoning',
      'logsource:',
      '  product: mcp',
      '  category: tool_list',
      'detection:',
      '  sel:',
      "    mcp.text.descriptions|contains: '<IMPORTANT>'",
      '  condition: sel',
    ].join('\n');
    const result = exportKibanaRules([{ path: 'rules/hidden.yml', text: rule }]);
    expect(result.errors).toEqual([]);
    expect(result.skipped).toEqual([]);
    expect(result.rules[0]).toMatchObject({ type: 'query', language: 'lucene' });
    expect(result.rules[0]!.query).toContain('mcp.text.descriptions:/.*\\<[Ii][Mm][Pp][Oo][Rr][Tt][Aa][Nn][Tt]\\>.*/');
    expect(result.rules[0]!.required_fields).toContainEqual({ name: 'mcp.text.descriptions', type: 'wildcard' });
  });
});
