/** `tapwire rules lint [DIR]`: schema and semantic checks of every rule; FILE:LINE: severity: message, exit 1 on errors. */
import { formatLintFinding, lintRuleSources } from '../../../detectors/sigma/ruleLinter.js';
import { parseCommand } from '../../usage.js';
import { readRuleSources, ruleDirectoryArgument } from './ruleDirectoryArgument.js';

const spec = {
  name: 'rules lint',
  summary: 'Checks every rule: what the engine rejects, plus required metadata, unused search identifiers and unknown field names.',
  usage: 'tapwire rules lint [DIR]',
  details: `Arguments:
  DIR    the rule directory, searched recursively (default: the shipped pack)

Errors: anything the engine rejects (YAML, unknown modifiers, unsafe regexes, duplicate ids, conditions naming
unknown identifiers), and missing metadata: id (a UUID), title, description, status, level, author, date,
references, falsepositives, exactly one tapwire.category.* tag.
Warnings: search identifiers the condition never uses, field names outside the event schema and derived fields,
a missing logsource.category (the rule runs on every event), unknown top-level keys, tags not written
namespace.name.
Prints FILE:LINE: severity: message per finding. Exits 1 when there is an error, else 0.`,
  options: {},
  positionals: { min: 0, max: 1 },
} as const;

/** Entry point of `tapwire rules lint`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const sources = readRuleSources(ruleDirectoryArgument(parsed.positionals[0]));
  const findings = lintRuleSources(sources);
  for (const finding of findings) process.stdout.write(`${formatLintFinding(finding)}\n`);
  const errors = findings.filter((f) => f.severity === 'error').length;
  process.stdout.write(`${sources.length} rule files: ${errors} errors, ${findings.length - errors} warnings\n`);
  return errors > 0 ? 1 : 0;
}
