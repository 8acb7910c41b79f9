/** `tapwire kibana import`: loads the data views, saved searches, dashboards and detection rule into Kibana. */
import { loadConfig } from '../../pipeline/config.js';
import { importKibanaContent, waitForKibana, type KibanaAuth, type KibanaTarget } from '../kibanaImporter.js';
import { runSingleSubcommand } from '../singleSubcommand.js';
import { parseCommand, positiveInteger } from '../usage.js';

const spec = {
  name: 'kibana import',
  summary:
    'Imports deploy/kibana into Kibana through its APIs (overwriting earlier imports): data views for logs-mcp.*,\n' +
    'saved searches, the overview, inventory & tool-usage and alerts dashboards, and the detection rule that\n' +
    'promotes Tapwire alerts into the Security app. Credentials: KIBANA_API_KEY, or KIBANA_USERNAME and\n' +
    "KIBANA_PASSWORD, else the config's elasticsearch credentials.",
  usage: 'tapwire kibana import [--url URL] [--space ID] [--rules FILE]... [--wait SECONDS] [--config FILE]',
  details: `Options:
  --url URL        Kibana's address (default: $KIBANA_URL, else http://localhost:5601)
  --space ID       a Kibana space (default: the default space)
  --rules FILE     also import this detection-rule NDJSON, e.g. from 'tapwire rules export --format kibana'
  --wait SECONDS   wait this long for Kibana to become available (default 0: it must be up)
  --config FILE    tapwire.yaml whose elasticsearch credentials are used when no KIBANA_* ones are set
  --home DIR       Tapwire home, where tapwire.yaml is looked for`,
  options: {
    url: { type: 'string' },
    space: { type: 'string' },
    rules: { type: 'string', multiple: true },
    wait: { type: 'string' },
    config: { type: 'string' },
    home: { type: 'string' },
  },
} as const;


/** KIBANA_API_KEY, else KIBANA_USERNAME/KIBANA_PASSWORD, else the Elasticsearch credentials of the config. */
function kibanaAuth(env: NodeJS.ProcessEnv, configFile: string | undefined, home: string | undefined): KibanaAuth | undefined {
  if (env.KIBANA_API_KEY) return { apiKey: env.KIBANA_API_KEY };
  if (env.KIBANA_USERNAME) return { username: env.KIBANA_USERNAME, password: env.KIBANA_PASSWORD ?? '' };
  const es = loadConfig({ ...(configFile === undefined ? {} : { file: configFile }), ...(home === undefined ? {} : { home }), env }).elasticsearch;
  if (es?.apiKey) return { apiKey: es.apiKey };
  if (es?.username !== undefined) return { username: es.username, password: es.password ?? '' };
  return undefined;
}

/** Entry point of `tapwire kibana`. */
export async function run(argv: string[]): Promise<number> {
  return runSingleSubcommand(argv, 'import', spec.usage, importContent);
}

/** `tapwire kibana import`. */
async function importContent(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const auth = kibanaAuth(process.env, o.config, o.home);
  const target: KibanaTarget = {
    url: o.url ?? process.env.KIBANA_URL ?? 'http://localhost:5601',
    ...(o.space === undefined ? {} : { space: o.space }),
    ...(auth === undefined ? {} : { auth }),
  };
  if (o.wait !== undefined) await waitForKibana(target, positiveInteger(o.wait, '--wait', 1) * 1000);
  for (const outcome of await importKibanaContent(target, o.rules ?? [])) process.stdout.write(`imported ${outcome.imported} from ${outcome.file}\n`);
  process.stdout.write(`Kibana at ${target.url} has the Tapwire data views, dashboards and detection rules.\n`);
  return 0;
}
