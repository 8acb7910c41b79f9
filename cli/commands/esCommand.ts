/** `tapwire es setup`: installs Tapwire's Elasticsearch templates, lifecycle, data streams and positions index. */
import { loadConfig } from '../../pipeline/config.js';
import { createEsClient, displayNode } from '../../pipeline/elasticsearch/esClient.js';
import { esSetupRequests, installEsTemplates, type EsSetupOptions } from '../../pipeline/elasticsearch/esSetup.js';
import { elasticsearchSettings } from '../../service/configuredStore.js';
import { runSingleSubcommand } from '../singleSubcommand.js';
import { parseCommand, positiveInteger } from '../usage.js';

const spec = {
  name: 'es setup',
  summary:
    'Installs what the Elasticsearch store needs: the ingest pipeline that sets event.ingested, component templates\n' +
    '(the ECS fields Tapwire uses plus mcp.*), index templates (priority 250) for the data streams\n' +
    'logs-mcp.messages-<namespace> and logs-mcp.alerts-<namespace> with lifecycle retention, the data streams, and\n' +
    'the index of store positions. Safe to run again: existing data streams roll over on their next write.',
  usage: 'tapwire es setup [--config FILE] [--namespace NS] [--retention-days N] [--dry-run]',
  details: `Options:
  --config FILE        tapwire.yaml (default: $TAPWIRE_CONFIG, else <home>/tapwire.yaml); the cluster is its
                       elasticsearch section, or ELASTICSEARCH_URL
  --namespace NS       data stream namespace (default: elasticsearch.namespace, else "default")
  --retention-days N   delete data older than N days (default: elasticsearch.retentionDays, else keep)
  --dry-run            print the requests as JSON instead of sending them
  --home DIR           Tapwire home, where tapwire.yaml is looked for`,
  options: {
    config: { type: 'string' },
    namespace: { type: 'string' },
    'retention-days': { type: 'string' },
    'dry-run': { type: 'boolean' },
    home: { type: 'string' },
  },
} as const;

/** Entry point of `tapwire es`. */
export async function run(argv: string[]): Promise<number> {
  return runSingleSubcommand(argv, 'setup', spec.usage, setup);
}

/** `tapwire es setup`. */
async function setup(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const config = loadConfig({ ...(o.config === undefined ? {} : { file: o.config }), ...(o.home === undefined ? {} : { home: o.home }) });
  const retentionDays = o['retention-days'] === undefined ? config.elasticsearch?.retentionDays : positiveInteger(o['retention-days'], '--retention-days', 1);
  const namespace = o.namespace ?? config.elasticsearch?.namespace;
  const options: EsSetupOptions = { ...(namespace === undefined ? {} : { namespace }), ...(retentionDays === undefined ? {} : { retentionDays }) };
  if (o['dry-run']) {
    process.stdout.write(`${JSON.stringify(esSetupRequests(options), null, 2)}\n`);
    return 0;
  }
  const settings = elasticsearchSettings(config);
  const client = createEsClient(settings);
  try {
    for (const line of await installEsTemplates(client, options)) process.stdout.write(`${line}\n`);
    process.stdout.write(`Elasticsearch at ${displayNode(settings.node)} is ready for Tapwire.\n`);
    return 0;
  } catch (error) {
    throw new Error(`setup of ${displayNode(settings.node)} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await client.close();
  }
}
