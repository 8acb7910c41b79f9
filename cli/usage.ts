/** Command-line parsing shared by every command: strict options, one-line usage errors (exit 2), --help. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

import { ChoiceError } from '../service/choiceError.js';

/** A mistake in how a command was called; the CLI prints it (and the service layer's ChoiceError) on one line and exits with code 2. */
export class UsageError extends ChoiceError {}

export interface CommandSpec<O extends NonNullable<ParseArgsConfig['options']>> {
  name: string;
  summary: string;
  usage: string;
  /** Option lines for --help, already formatted. */
  details: string;
  options: O;
  positionals?: { min: number; max: number };
}

/** Renders a command's --help text. */
export function helpText(spec: CommandSpec<NonNullable<ParseArgsConfig['options']>>): string {
  return `Usage: ${spec.usage}\n\n${spec.summary}\n${spec.details ? `\n${spec.details.trimEnd()}\n` : ''}`;
}

/** Parses argv for a command; returns undefined after printing help when --help was given. */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(spec: CommandSpec<O>, argv: string[]) {
  const options = { ...spec.options, help: { type: 'boolean', short: 'h' } } as O & { help: { type: 'boolean'; short: 'h' } };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(conciseParseError((error as Error).message));
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(helpText(spec));
    return undefined;
  }
  const { min, max } = spec.positionals ?? { min: 0, max: 0 };
  if (parsed.positionals.length < min) throw new UsageError(`missing argument (usage: ${spec.usage})`);
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`);
  return parsed;
}

function conciseParseError(message: string): string {
  // node:util's messages span lines and carry advice about '--' that does not fit Tapwire's commands.
  const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(message);
  if (ambiguous) return `option '${ambiguous[1]}' needs a value; write ${ambiguous[1]}=VALUE for one that starts with a dash`;
  return message.split('\n')[0]!.split('. To specify a positional argument')[0]!.replace(/^Unknown option/, 'unknown option').replace(/^Option/, 'option');
}

/** Parses a positive integer option value. */
export function positiveInteger(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${option}: expected a positive whole number, got '${value}'`);
  return n;
}
