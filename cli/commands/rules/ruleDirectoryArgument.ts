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

/** Every rule file under `dir`, named relative to the working directory when inside it (FILE:LINE messages stay short). */
export function readRuleSources(dir: string): RuleSource[] {
  return findRuleFiles(dir).map((file) => {
    const rel = relative(process.cwd(), file);
    return { path: rel === '' || rel.startsWith('..') ? file : rel, text: readFileSync(file, 'utf8') };
  });
}
