/** `tapwire rules export --format kibana [DIR] [--out FILE]`: Kibana detection rules as NDJSON, skipped rules on stderr. */
import { writeFileSync } from 'node:fs';
import { exportKibanaRules, formatSkippedRule, formatWidenedRule, kibanaNdjson, MCP_EVENTS_INDEX, WIDENED_TAG } from '../../../detectors/sigma/kibanaExport.js';
import { INDEX_MAX_REGEX_LENGTH } from '../../../pipeline/elasticsearch/esMappings.js';
import { parseCommand, UsageError } from '../../usage.js';
import { readRuleSources, ruleDirectoryArgument } from './ruleDirectoryArgument.js';

const spec = {
  name: 'rules export',
  summary: 'Writes the rules Elasticsearch can express as Kibana detection rules (NDJSON for the detection engine import API).',
  usage: 'tapwire rules export --format kibana [DIR] [--out FILE] [--index PATTERN]... [--allow-widened]',
  details: `Arguments:
  DIR                the rule directory, searched recursively (default: the shipped pack)

Options:
  --format kibana    the output format (required; kibana is the only one)
  --out FILE         write the NDJSON to FILE instead of stdout
  --index PATTERN    index pattern the rules query (repeatable; default ${MCP_EVENTS_INDEX})
  --allow-widened    also export, as a superset that is NOT identical, each rule refused only because a regex's
                     automaton is too large for Lucene: its largest bounded gaps (G{m,n} of one character class)
                     become unbounded (G{m,}); tagged ${WIDENED_TAG}, the bounds named in its description

Detection rules become query rules in Lucene syntax, which every Elasticsearch distribution runs: Sigma's
case-insensitive values, wildcards and RE2 regexes become Lucene regular expressions that match what the engine
matches (rules/EXPORT.md); event_count/value_count correlations become threshold rules, temporal_ordered ones EQL
sequences (EQL needs the default distribution). The indices need index.max_regex_length >= ${INDEX_MAX_REGEX_LENGTH}
(tapwire es setup sets it). Each rule left out is listed on stderr as FILE:LINE: id (title): reason, and each
widened one as FILE:LINE: id (title): the bounds widened.
Import: curl -X POST "<kibana>/api/detection_engine/rules/_import?overwrite=true" -H 'kbn-xsrf: true' --form file=@rules.ndjson
Exits 1 when a rule does not compile, else 0.`,
  options: {
    format: { type: 'string' },
    out: { type: 'string' },
    index: { type: 'string', multiple: true },
    'allow-widened': { type: 'boolean' },
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
  const allowWidened = o['allow-widened'] === true;
  const result = exportKibanaRules(sources, { ...(o.index ? { index: o.index } : {}), allowWidened });
  const ndjson = kibanaNdjson(result.rules);
  if (o.out === undefined) process.stdout.write(ndjson);
  else writeFileSync(o.out, ndjson);
  for (const error of result.errors) process.stderr.write(`${error.message}\n`);
  for (const skipped of result.skipped) process.stderr.write(`skipped ${formatSkippedRule(skipped)}\n`);
  for (const widened of result.widened) process.stderr.write(`widened ${formatWidenedRule(widened)}\n`);
  for (const note of result.notes) process.stderr.write(`note ${note}\n`);
  const exported = allowWidened ? `${result.rules.length - result.widened.length} rules exported exactly and ${result.widened.length} widened (not identical: tagged ${WIDENED_TAG})` : `${result.rules.length} rules exported`;
  process.stderr.write(`${exported}${o.out === undefined ? '' : ` to ${o.out}`}, ${result.skipped.length} skipped, ${result.errors.length} rejected\n`);
  return result.errors.length > 0 ? 1 : 0;
}
