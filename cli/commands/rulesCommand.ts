/**
 * `tapwire rules`: tooling for the Sigma rule pack. Each subcommand is its own module under rules/, listed in
 * SUBCOMMANDS and loaded only when used; adding one is one line here and one file there.
 */
import { UsageError } from '../usage.js';

interface SubcommandModule {
  run(argv: string[]): Promise<number>;
}

const SUBCOMMANDS: Record<string, { summary: string; load: () => Promise<SubcommandModule> }> = {
  test: { summary: "run every rule's tests (the match and no-match transcripts beside each rule)", load: () => import('./rules/testSubcommand.js') },
  lint: { summary: 'check every rule: engine errors, required metadata, unused identifiers, unknown fields', load: () => import('./rules/lintSubcommand.js') },
  list: { summary: 'list the rules: id, level, category, log source, title, file', load: () => import('./rules/listSubcommand.js') },
  export: { summary: 'write the rules Elasticsearch can express as Kibana detection rules (--format kibana)', load: () => import('./rules/exportSubcommand.js') },
};

function overview(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((c) => c.length));
  const lines = Object.entries(SUBCOMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: tapwire rules <subcommand> [options]\n\nWorks with Sigma detection rules (the shipped pack is in the package's rules/ directory).\n\nSubcommands:\n${lines.join('\n')}\n\nRun 'tapwire rules <subcommand> --help' for its options.\n`;
}

/** Entry point of `tapwire rules`: dispatches to the subcommand. */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(overview());
    return name === undefined ? 2 : 0;
  }
  const subcommand = SUBCOMMANDS[name];
  if (!subcommand) throw new UsageError(`unknown subcommand '${name}' (${Object.keys(SUBCOMMANDS).join(', ')})`);
  return (await subcommand.load()).run(rest);
}
