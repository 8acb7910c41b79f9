/** Dispatch for commands with one subcommand (`tapwire es setup`, `tapwire kibana import`). */
import { UsageError } from './usage.js';

/** Runs `run` with the arguments after `name`; prints `usage` (exit 2, or 0 for --help) when no subcommand is given. */
export async function runSingleSubcommand(argv: string[], name: string, usage: string, run: (rest: string[]) => Promise<number>): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h') {
    process.stdout.write(`Usage: ${usage}\n`);
    return subcommand === undefined ? 2 : 0;
  }
  if (subcommand !== name) throw new UsageError(`unknown subcommand '${subcommand}' (expected ${name})`);
  return run(rest);
}
