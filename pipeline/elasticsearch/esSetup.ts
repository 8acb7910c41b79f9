/**
 * `tapwire es setup`: the ingest pipeline, component templates, composable index templates (with data stream
 * lifecycle retention), the data streams themselves and the positions index. Every request is typed with the
 * client's request types, and every step is idempotent, so setup can run on each deployment.
 *
 * Setup first asks the cluster which modules it runs: a default distribution has all Tapwire uses, but a stripped
 * one (Maven Central's integ-test-zip, which CI runs) lacks ingest-common, mapper-extras, wildcard and data-streams.
 * There setup installs the nearest equivalent and says so, line by line, rather than failing on the first template.
 */
import { errors, type Client, type estypes } from '@elastic/elasticsearch';
import { tapwireVersion } from '../packagePaths.js';
import { ALERTS_MAPPINGS, COMMON_MAPPINGS, INDEX_MAX_REGEX_LENGTH, MESSAGES_MAPPINGS } from './esMappings.js';
import { DATASETS, ES_TEMPLATE_NAMES as NAMES, esNames, type EsNames } from './esNames.js';

/** Above the built-in logs-*-* template (priority 100) and Fleet's integration templates (200). */
export const TEMPLATE_PRIORITY = 250;
/** Bumped whenever a template changes, so `GET _index_template` shows which Tapwire installed it. */
export const TEMPLATE_VERSION = 1;

/** What the cluster offers of what Tapwire's templates use; each is one module of a default distribution. */
export interface EsCapabilities {
  /** The `set` ingest processor (module ingest-common), which stamps event.ingested. */
  setProcessor: boolean;
  /** `match_only_text` (module mapper-extras). */
  matchOnlyText: boolean;
  /** The `wildcard` field type (module wildcard). */
  wildcard: boolean;
  /** The `constant_keyword` field type (module constant-keyword), which data_stream.* use. */
  constantKeyword: boolean;
  /** The _data_stream API and the data stream lifecycle that enforces retention (module data-streams). */
  dataStreams: boolean;
}

/** A default distribution. */
export const DEFAULT_DISTRIBUTION: EsCapabilities = { setProcessor: true, matchOnlyText: true, wildcard: true, constantKeyword: true, dataStreams: true };

/** Asks every node for its modules and ingest processors; a capability holds when all nodes have it. */
export async function detectEsCapabilities(client: Client): Promise<EsCapabilities> {
  const info = await client.nodes.info({ metric: ['plugins', 'ingest'], filter_path: ['nodes.*.modules.name', 'nodes.*.plugins.name', 'nodes.*.ingest.processors.type'] });
  const nodes = Object.values(info.nodes ?? {});
  const everywhere = (has: (node: (typeof nodes)[number]) => boolean): boolean => nodes.length > 0 && nodes.every(has);
  const module = (name: string) => (node: (typeof nodes)[number]) => [...(node.modules ?? []), ...(node.plugins ?? [])].some((m) => m.name === name);
  return {
    setProcessor: everywhere((node) => (node.ingest?.processors ?? []).some((p) => p.type === 'set')),
    matchOnlyText: everywhere(module('mapper-extras')),
    wildcard: everywhere(module('wildcard')),
    constantKeyword: everywhere(module('constant-keyword')),
    dataStreams: everywhere(module('data-streams')),
  };
}

/**
 * The mappings with each field type the cluster lacks replaced by its nearest equivalent: `match_only_text` by
 * `text` without norms (same matches, larger index), `wildcard` by a keyword that keeps its `.text` sub-field
 * (wildcard and regexp queries still run, but values over ignore_above are not indexed and cannot match),
 * `constant_keyword` by `keyword` (same queries; the value is stored per document).
 */
export function mappingsFor(mappings: estypes.MappingTypeMapping, capabilities: EsCapabilities): estypes.MappingTypeMapping {
  const adapt = (property: estypes.MappingProperty): estypes.MappingProperty => {
    let adapted: estypes.MappingProperty = property;
    if (property.type === 'match_only_text' && !capabilities.matchOnlyText) adapted = { type: 'text', norms: false };
    if (property.type === 'constant_keyword' && !capabilities.constantKeyword) adapted = { type: 'keyword' };
    if (property.type === 'wildcard' && !capabilities.wildcard) {
      const { type: _wildcard, null_value: _null, ...rest } = property;
      adapted = { ...rest, type: 'keyword', ignore_above: WILDCARD_FALLBACK_IGNORE_ABOVE };
    }
    const withChildren = adapted as { properties?: Record<string, estypes.MappingProperty>; fields?: Record<string, estypes.MappingProperty> };
    if (withChildren.properties) adapted = { ...adapted, properties: adaptAll(withChildren.properties) } as estypes.MappingProperty;
    if (withChildren.fields) adapted = { ...adapted, fields: adaptAll(withChildren.fields) } as estypes.MappingProperty;
    return adapted;
  };
  const adaptAll = (properties: Record<string, estypes.MappingProperty>) =>
    Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, adapt(property)]));
  return mappings.properties ? { ...mappings, properties: adaptAll(mappings.properties) } : mappings;
}

/** Lucene's 32,766-byte term limit at four UTF-8 bytes a character, as esMappings.ts caps keywords. */
const WILDCARD_FALLBACK_IGNORE_ABOVE = 8191;

/** One line per capability the cluster lacks: what setup installs instead and what that costs. */
export function fallbackNotes(capabilities: EsCapabilities): string[] {
  const notes: string[] = [];
  if (!capabilities.setProcessor)
    notes.push('no `set` ingest processor (module ingest-common): no final pipeline; event.ingested stays unset, so Kibana rules with timestamp_override fall back to @timestamp');
  if (!capabilities.matchOnlyText) notes.push('no match_only_text (module mapper-extras): `.text` sub-fields are `text` without norms (same matches, larger index)');
  if (!capabilities.wildcard)
    notes.push(`no wildcard field type (module wildcard): mcp.text.* are keyword (ignore_above ${WILDCARD_FALLBACK_IGNORE_ABOVE}); longer values are kept in _source but cannot match a query`);
  if (!capabilities.constantKeyword) notes.push('no constant_keyword (module constant-keyword): data_stream.* are keyword (same queries)');
  if (!capabilities.dataStreams)
    notes.push('no data-streams module: data streams are created by their first write, and lifecycle retention is not enforced (delete old backing indices yourself)');
  return notes;
}

export interface EsSetupOptions {
  namespace?: string;
  /** Data stream lifecycle retention in days; without it, data is kept until deleted. */
  retentionDays?: number;
}

/** Everything setup sends, in order: pipeline (when the cluster can run it), component templates, index templates. */
export interface EsSetupRequests {
  pipeline?: estypes.IngestPutPipelineRequest;
  componentTemplates: estypes.ClusterPutComponentTemplateRequest[];
  indexTemplates: estypes.IndicesPutIndexTemplateRequest[];
  positionsIndex: estypes.IndicesCreateRequest;
}

/** What one setup run did, one line per step, for the command's output. */
export type EsSetupReport = string[];

const META = { managed_by: 'tapwire', managed: true } as const;

/** The requests `tapwire es setup` sends for these options to a cluster with these capabilities. */
export function esSetupRequests(options: EsSetupOptions = {}, capabilities: EsCapabilities = DEFAULT_DISTRIBUTION): EsSetupRequests {
  const names = esNames(options.namespace);
  const lifecycle: estypes.IndicesDataStreamLifecycle =
    options.retentionDays === undefined || !capabilities.dataStreams ? {} : { data_retention: `${options.retentionDays}d` };
  const component = (name: string, template: estypes.IndicesPutIndexTemplateIndexTemplateMapping): estypes.ClusterPutComponentTemplateRequest => ({
    name,
    version: TEMPLATE_VERSION,
    _meta: { ...META, description: `Tapwire ${tapwireVersion()}` },
    template,
  });
  const indexTemplate = (name: string, dataset: string, mappings: string, custom: string): estypes.IndicesPutIndexTemplateRequest => ({
    name,
    index_patterns: [`logs-${dataset}-*`],
    priority: TEMPLATE_PRIORITY,
    version: TEMPLATE_VERSION,
    data_stream: {},
    composed_of: [NAMES.settings, NAMES.ecsMappings, mappings, custom],
    ignore_missing_component_templates: [custom],
    template: { lifecycle },
    _meta: { ...META, description: `Tapwire ${dataset} data streams` },
  });
  const pipeline: estypes.IngestPutPipelineRequest = {
    id: NAMES.finalPipeline,
    description: 'Tapwire: sets event.ingested, the time the document reached Elasticsearch (used by the Kibana promotion rule).',
    version: TEMPLATE_VERSION,
    _meta: META,
    processors: [{ set: { field: 'event.ingested', value: '{{{_ingest.timestamp}}}', override: true } }],
  };
  return {
    ...(capabilities.setProcessor ? { pipeline } : {}),
    componentTemplates: [
      component(NAMES.settings, {
        settings: {
          // Logsdb (the default for logs-*-* in 9.x) rebuilds _source from doc values, which reorders arrays and
          // drops duplicates; the store reads events back from _source, so it must stay as written.
          'index.mode': 'standard',
          ...(capabilities.setProcessor ? { 'index.final_pipeline': NAMES.finalPipeline } : {}),
          'index.mapping.total_fields.limit': 2000,
          'index.max_regex_length': INDEX_MAX_REGEX_LENGTH,
          'index.codec': 'best_compression',
        },
      }),
      component(NAMES.ecsMappings, { mappings: mappingsFor(COMMON_MAPPINGS, capabilities) }),
      component(NAMES.messagesMappings, { mappings: mappingsFor(MESSAGES_MAPPINGS, capabilities) }),
      component(NAMES.alertsMappings, { mappings: mappingsFor(ALERTS_MAPPINGS, capabilities) }),
    ],
    indexTemplates: [
      indexTemplate(NAMES.messagesTemplate, DATASETS.messages, NAMES.messagesMappings, NAMES.messagesCustom),
      indexTemplate(NAMES.alertsTemplate, DATASETS.alerts, NAMES.alertsMappings, NAMES.alertsCustom),
    ],
    positionsIndex: {
      index: names.positions,
      settings: { 'index.hidden': true },
      mappings: { dynamic: 'strict', properties: { source: { type: 'keyword' }, offset: { type: 'long' }, '@timestamp': { type: 'date' } } },
    },
  };
}

/** Whether Elasticsearch refused a request because what it creates is already there. */
function alreadyExists(error: unknown): boolean {
  return error instanceof errors.ResponseError && (error.body as { error?: { type?: string } } | undefined)?.error?.type === 'resource_already_exists_exception';
}

/** Creates the data stream, or when it exists, has its next write roll over so it picks up the new templates. */
async function ensureDataStream(client: Client, name: string, capabilities: EsCapabilities, report: EsSetupReport): Promise<void> {
  if (!capabilities.dataStreams) {
    // Without the _data_stream API the first write creates the stream (that part is in the server); rollover is too.
    try {
      await client.indices.rollover({ alias: name, lazy: true });
      report.push(`data stream ${name} exists; it rolls over on its next write to apply the templates`);
    } catch (error) {
      if (!(error instanceof errors.ResponseError && error.statusCode === 404)) throw error;
      report.push(`data stream ${name} will be created by its first write`);
    }
    return;
  }
  try {
    await client.indices.createDataStream({ name });
    report.push(`created data stream ${name}`);
  } catch (error) {
    if (!alreadyExists(error)) throw error;
    await client.indices.rollover({ alias: name, lazy: true });
    report.push(`data stream ${name} exists; it rolls over on its next write to apply the templates`);
  }
}

/** Installs everything; safe to repeat. Errors carry Elasticsearch's own reason. */
export async function installEsTemplates(client: Client, options: EsSetupOptions = {}): Promise<EsSetupReport> {
  const capabilities = await detectEsCapabilities(client);
  const requests = esSetupRequests(options, capabilities);
  const names: EsNames = esNames(options.namespace);
  const report: EsSetupReport = fallbackNotes(capabilities).map((note) => `this cluster has ${note}`);
  if (requests.pipeline) {
    await client.ingest.putPipeline(requests.pipeline);
    report.push(`ingest pipeline ${requests.pipeline.id}`);
  }
  for (const template of requests.componentTemplates) {
    await client.cluster.putComponentTemplate(template);
    report.push(`component template ${template.name}`);
  }
  for (const template of requests.indexTemplates) {
    await client.indices.putIndexTemplate(template);
    const retention =
      options.retentionDays === undefined ? 'no retention limit' : capabilities.dataStreams ? `retention ${options.retentionDays}d` : 'retention not enforced here';
    report.push(`index template ${template.name} (priority ${TEMPLATE_PRIORITY}, ${retention})`);
  }
  await ensureDataStream(client, names.messages, capabilities, report);
  await ensureDataStream(client, names.alerts, capabilities, report);
  try {
    await client.indices.create(requests.positionsIndex);
    report.push(`created index ${names.positions}`);
  } catch (error) {
    if (!alreadyExists(error)) throw error;
    report.push(`index ${names.positions} exists`);
  }
  return report;
}
