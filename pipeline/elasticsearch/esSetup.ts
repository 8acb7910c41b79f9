/**
 * `tapwire es setup`: the ingest pipeline, component templates, composable index templates (with data stream
 * lifecycle retention), the data streams themselves and the positions index. Every request is typed with the
 * client's request types, and every step is idempotent, so setup can run on each deployment.
 */
import { errors, type Client, type estypes } from '@elastic/elasticsearch';
import { tapwireVersion } from '../packagePaths.js';
import { ALERTS_MAPPINGS, COMMON_MAPPINGS, MESSAGES_MAPPINGS } from './esMappings.js';
import { DATASETS, ES_TEMPLATE_NAMES as NAMES, esNames, type EsNames } from './esNames.js';

/** Above the built-in logs-*-* template (priority 100) and Fleet's integration templates (200). */
export const TEMPLATE_PRIORITY = 250;
/** Bumped whenever a template changes, so `GET _index_template` shows which Tapwire installed it. */
export const TEMPLATE_VERSION = 1;

export interface EsSetupOptions {
  namespace?: string;
  /** Data stream lifecycle retention in days; without it, data is kept until deleted. */
  retentionDays?: number;
}

/** Everything setup sends, in order: pipeline, component templates, index templates. */
export interface EsSetupRequests {
  pipeline: estypes.IngestPutPipelineRequest;
  componentTemplates: estypes.ClusterPutComponentTemplateRequest[];
  indexTemplates: estypes.IndicesPutIndexTemplateRequest[];
  positionsIndex: estypes.IndicesCreateRequest;
}

/** What one setup run did, one line per step, for the command's output. */
export type EsSetupReport = string[];

const META = { managed_by: 'tapwire', managed: true } as const;

/** The requests `tapwire es setup` sends for these options. */
export function esSetupRequests(options: EsSetupOptions = {}): EsSetupRequests {
  const names = esNames(options.namespace);
  const lifecycle: estypes.IndicesDataStreamLifecycle =
    options.retentionDays === undefined ? {} : { data_retention: `${options.retentionDays}d` };
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
  return {
    pipeline: {
      id: NAMES.finalPipeline,
      description: 'Tapwire: sets event.ingested, the time the document reached Elasticsearch (used by the Kibana promotion rule).',
      version: TEMPLATE_VERSION,
      _meta: META,
      processors: [{ set: { field: 'event.ingested', value: '{{{_ingest.timestamp}}}', override: true } }],
    },
    componentTemplates: [
      component(NAMES.settings, {
        settings: {
          // Logsdb (the default for logs-*-* in 9.x) rebuilds _source from doc values, which reorders arrays and
          // drops duplicates; the store reads events back from _source, so it must stay as written.
          'index.mode': 'standard',
          'index.final_pipeline': NAMES.finalPipeline,
          'index.mapping.total_fields.limit': 2000,
          'index.codec': 'best_compression',
        },
      }),
      component(NAMES.ecsMappings, { mappings: COMMON_MAPPINGS }),
      component(NAMES.messagesMappings, { mappings: MESSAGES_MAPPINGS }),
      component(NAMES.alertsMappings, { mappings: ALERTS_MAPPINGS }),
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
async function ensureDataStream(client: Client, name: string, report: EsSetupReport): Promise<void> {
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
  const requests = esSetupRequests(options);
  const names: EsNames = esNames(options.namespace);
  const report: EsSetupReport = [];
  await client.ingest.putPipeline(requests.pipeline);
  report.push(`ingest pipeline ${requests.pipeline.id}`);
  for (const template of requests.componentTemplates) {
    await client.cluster.putComponentTemplate(template);
    report.push(`component template ${template.name}`);
  }
  for (const template of requests.indexTemplates) {
    await client.indices.putIndexTemplate(template);
    const retention = options.retentionDays === undefined ? 'no retention limit' : `retention ${options.retentionDays}d`;
    report.push(`index template ${template.name} (priority ${TEMPLATE_PRIORITY}, ${retention})`);
  }
  await ensureDataStream(client, names.messages, report);
  await ensureDataStream(client, names.alerts, report);
  try {
    await client.indices.create(requests.positionsIndex);
    report.push(`created index ${names.positions}`);
  } catch (error) {
    if (!alreadyExists(error)) throw error;
    report.push(`index ${names.positions} exists`);
  }
  return report;
}
