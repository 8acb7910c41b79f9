/** The rule directory a `tapwire rules` subcommand works on, read into sources whose paths read well in messages. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RuleSource } from '../../../detectors/sigma/ruleCompiler.js';
import { findRuleFiles } from '../../../detectors/sigma/ruleFiles.js';
import { packageRoot } from '../../../pipeline/packagePaths.js';
import { UsageError } from '../../usage.js';

/** The DIR argument, or the shipped pack; a usage error when it is not a directory. */
export function ruleDirectoryArgument(positional: string | undefined): string {
  const dir = positional ?? join(packageRoot(), 'rules');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory`);
  return dir;
}

/** A path as short as it reads well: relative to the working directory when it is inside it. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

/** Every rule file under `dir`, named as shownPath names it (FILE:LINE messages stay short). */
export function readRuleSources(dir: string): RuleSource[] {
  return findRuleFiles(dir).map((file) => ({ path: shownPath(file), text: readFileSync(file, 'utf8') }));
}
