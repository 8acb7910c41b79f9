/** `tapwire rules list [DIR] [--json]`: the rules the engine accepts, one per row (or NDJSON line). */
import type { CompiledRule } from '../../../detectors/sigma/compiledRule.js';
import { compileRules } from '../../../detectors/sigma/ruleCompiler.js';
import { renderTable, writeJsonLines } from '../../commandOutput.js';
import { parseCommand } from '../../usage.js';
import { readRuleSources, ruleDirectoryArgument } from './ruleDirectoryArgument.js';

const spec = {
  name: 'rules list',
  summary: 'Lists the rules of a directory: id, level, category, log source (or correlation type), title and file.',
  usage: 'tapwire rules list [DIR] [--json]',
  details: `Arguments:
  DIR       the rule directory, searched recursively (default: the shipped pack)

Options:
  --json    one rule per line as NDJSON

Rules the engine rejects are not listed; their count goes to stderr ('tapwire rules lint' shows why).`,
  options: { json: { type: 'boolean' } },
  positionals: { min: 0, max: 1 },
} as const;

interface ListedRule {
  id: string;
  level: string;
  category: string;
  /** The log source category, or the correlation type for a correlation rule. */
  logsource: string;
  title: string;
  file: string;
  line: number;
  /** Whether the rule raises alerts itself (false: it only feeds correlations). */
  alerts: boolean;
}

function listed(rule: CompiledRule): ListedRule {
  const { meta } = rule;
  return {
    id: meta.id,
    level: meta.level ?? '',
    category: meta.category ?? '',
    logsource: rule.kind === 'detection' ? rule.logsourceCategory ?? '(any)' : `correlation:${rule.definition.type}`,
    title: meta.title,
    file: meta.location.file,
    line: meta.location.line,
    alerts: rule.alerts,
  };
}

/** Entry point of `tapwire rules list`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const { rules, errors } = compileRules(readRuleSources(ruleDirectoryArgument(parsed.positionals[0])));
  const rows = rules.map(listed);
  if (parsed.values.json) writeJsonLines(rows);
  else if (rows.length === 0) process.stdout.write('no rules\n');
  else process.stdout.write(renderTable(['id', 'level', 'category', 'logsource', 'title', 'file'], rows.map((r) => [r.id, r.level, r.category, r.logsource, r.title, `${r.file}:${r.line}`]), 80));
  if (errors.length > 0) process.stderr.write(`${errors.length} rule problems left rules out; run 'tapwire rules lint' for details\n`);
  return 0;
}
