/**
 * detect, up and replay refuse to run with no Sigma rule loaded: a rules directory that is empty, mistyped or whose
 * every file was rejected would otherwise give a detector that looks healthy and raises nothing.
 */
import type { RuleSet } from '../detectors/sigma/ruleSet.js';
import { shippedRulesDir } from './detectionSetup.js';

export const ALLOW_EMPTY_OPTION = { 'allow-empty': { type: 'boolean' } } as const;
export const ALLOW_EMPTY_HELP = '  --allow-empty      run even when no Sigma rule loads (only the stateful detectors then)';

/** Throws, naming the directory, when `ruleSet` holds no rule and --allow-empty was not given. */
export function requireRules(ruleSet: RuleSet, dir: string | undefined, allowEmpty: boolean | undefined): void {
  if (ruleSet.rules.length > 0 || allowEmpty) return;
  const where = dir ?? shippedRulesDir();
  throw new Error(`NO DETECTION RULES LOADED from ${where}: the directory holds no rule file, or every one was rejected (see 'tapwire rules lint ${where}'). Refusing to run without rules; pass --allow-empty to run the stateful detectors alone.`);
}
