/** `tapwire rules test [DIR]`: runs the tests beside every rule; failures print as FILE:LINE: message, exit 1. */
import { runRuleTests } from '../../ruleTesting/ruleTests.js';
import { ProgressLine } from '../../progressLine.js';
import { parseCommand } from '../../usage.js';
import { ruleDirectoryArgument, shownPath } from './ruleDirectoryArgument.js';

const spec = {
  name: 'rules test',
  summary: "Runs every rule's tests: each <rule>.tests.yml beside a <rule>.yml lists transcripts the rule must and must not match.",
  usage: 'tapwire rules test [DIR]',
  details: `Arguments:
  DIR    the rule directory, searched recursively (default: the shipped pack)

Prints one line per rule file (a progress line on a terminal), then each failure as FILE:LINE: message.
Exits 0 when every test passes, 1 on any failure.`,
  options: {},
  positionals: { min: 0, max: 1 },
} as const;

/** Entry point of `tapwire rules test`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const dir = ruleDirectoryArgument(parsed.positionals[0]);
  const progress = new ProgressLine();
  const result = runRuleTests(dir, {
    onFile: (file, done, total) => {
      if (progress.interactive) progress.update(`[${done}/${total}] ${shownPath(file.ruleFile)}`);
      else process.stdout.write(`${file.failures.length > 0 ? 'FAIL' : 'ok  '}  ${shownPath(file.ruleFile)}  (${file.rules} rules, ${file.cases} tests)\n`);
    },
  });
  progress.clear();
  for (const failure of result.failures) process.stdout.write(`${shownPath(failure.file)}:${failure.line}: ${failure.message}\n`);
  const rules = result.files.reduce((n, f) => n + f.rules, 0);
  process.stdout.write(`${result.files.length} rule files, ${rules} rules, ${result.cases} tests: ${result.failures.length === 0 ? 'all passed' : `${result.failures.length} failures`}\n`);
  return result.failures.length > 0 ? 1 : 0;
}
