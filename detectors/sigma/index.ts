/** Tapwire's Sigma rule engine (Sigma specification v2 with MCP log sources): the public API. */
import { readFileSync } from 'node:fs';
import { compileRules, type CompileResult, type SigmaCompileOptions } from './ruleCompiler.js';

export { compileRules, type CompileResult, type RuleSource, type SigmaCompileOptions } from './ruleCompiler.js';
export { RuleEngine, type RuleEngineOptions, type RuleEngineStats } from './ruleEngine.js';
export { SigmaRuleError } from './ruleError.js';
export { DEFAULT_CORRELATION_LIMITS, type CompiledRule, type CorrelationLimits } from './compiledRule.js';
export { DEFAULT_SCAN_LIMITS, type ScanLimits } from './scanLimits.js';
export { MCP_LOGSOURCE_CATEGORIES, MCP_PRODUCT, logsourceCategoriesOf } from './mcpLogsource.js';
export { DERIVED_FIELDS } from './derivedFields.js';

/** Reads and compiles one rule file (one or more YAML documents). */
export function loadRuleFile(path: string, options: SigmaCompileOptions = {}): CompileResult {
  return compileRules([{ path, text: readFileSync(path, 'utf8') }], options);
}
