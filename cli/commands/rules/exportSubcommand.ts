/** `tapwire rules export --format kibana [DIR] [--out FILE]`: Kibana detection rules as NDJSON, skipped rules on stderr. */
import { writeFileSync } from 'node:fs';
import { exportKibanaRules, formatSkippedRule, kibanaNdjson, MCP_EVENTS_INDEX } from '../../../detectors/sigma/kibanaExport.js';
import { INDEX_MAX_REGEX_LENGTH } from '../../../pipeline/elasticsearch/esMappings.js';
import { parseCommand, UsageError } from '../../usage.js';
import { readRuleSources, ruleDirectoryArgument } from './ruleDirectoryArgument.js';

const spec = {
  name: 'rules export',
  summary: 'Writes the rules Elasticsearch can express as Kibana detection rules (NDJSON for the detection engine import API).',
  usage: 'tapwire rules export --format kibana [DIR] [--out FILE] [--index PATTERN]...',
  details: `Arguments:
  DIR                the rule directory, searched recursively (default: the shipped pack)

Options:
  --format kibana    the output format (required; kibana is the only one)
  --out FILE         write the NDJSON to FILE instead of stdout
  --index PATTERN    index pattern the rules query (repeatable; default ${MCP_EVENTS_INDEX})

Detection rules become query rules in Lucene syntax, which every Elasticsearch distribution runs: Sigma's
case-insensitive values, wildcards and RE2 regexes become Lucene regular expressions that match what the engine
matches (rules/EXPORT.md); event_count/value_count correlations become threshold rules, temporal_ordered ones EQL
sequences (EQL needs the default distribution). The indices need index.max_regex_length >= ${INDEX_MAX_REGEX_LENGTH}
(tapwire es setup sets it). Each rule left out is listed on stderr as FILE:LINE: id (title): reason.
Import: curl -X POST "<kibana>/api/detection_engine/rules/_import?overwrite=true" -H 'kbn-xsrf: true' --form file=@rules.ndjson
Exits 1 when a rule does not compile, else 0.`,
  options: {
    format: { type: 'string' },
    out: { type: 'string' },
    index: { type: 'string', multiple: true },
  },
  positionals: { min: 0, max: 1 },
} as const;

/** Entry point of `tapwire rules export`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  if (o.format === undefined) throw new UsageError('--format is required (kibana)');
  if (o.format !== 'kibana') throw new UsageError(`--format '${o.format}' is not supported (kibana)`);
  const sources = readRuleSources(ruleDirectoryArgument(parsed.positionals[0]));
  const result = exportKibanaRules(sources, o.index ? { index: o.index } : {});
  const ndjson = kibanaNdjson(result.rules);
  if (o.out === undefined) process.stdout.write(ndjson);
  else writeFileSync(o.out, ndjson);
  for (const error of result.errors) process.stderr.write(`${error.message}\n`);
  for (const skipped of result.skipped) process.stderr.write(`skipped ${formatSkippedRule(skipped)}\n`);
  for (const note of result.notes) process.stderr.write(`note ${note}\n`);
  process.stderr.write(`${result.rules.length} rules exported${o.out === undefined ? '' : ` to ${o.out}`}, ${result.skipped.length} skipped, ${result.errors.length} rejected\n`);
  return result.errors.length > 0 ? 1 : 0;
}
