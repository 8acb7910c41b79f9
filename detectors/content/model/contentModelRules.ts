/**
 * The learned tier's alerts: one rule per category the attack classes fall in, and how a score becomes a level.
 * Above the head's threshold an alert is medium, high or critical by how far above it the score lies, one level
 * higher for classes whose goal is leaking data or steering other tools, and at most medium for self-promotion; in
 * the band just under the threshold it is informational, for hunting.
 */
import type { AlertLevel, AlertRuleInfo } from '../../alertBuilder.js';
import type { ContentVerdict } from './contentModel.js';

type ModelCategory = 'tool_poisoning' | 'tool_shadowing' | 'prompt_injection';

/** The alert category of each attack class the datasets name (unknown classes: by head). */
const CATEGORY_OF_CLASS: Readonly<Record<string, ModelCategory>> = {
  poisoning: 'tool_poisoning',
  exfiltration: 'tool_poisoning',
  prerequisite_call: 'tool_poisoning',
  preference_manipulation: 'tool_poisoning',
  out_of_scope_parameter: 'tool_poisoning',
  harmful_capability: 'tool_poisoning',
  shadowing: 'tool_shadowing',
  result_injection: 'prompt_injection',
  tool_transfer: 'prompt_injection',
};

const ESCALATED = new Set(['exfiltration', 'shadowing']);
const CAPPED_AT_MEDIUM = new Set(['preference_manipulation']);

const RULES: Record<ModelCategory, Omit<AlertRuleInfo, 'level'>> = {
  tool_poisoning: {
    id: 'tapwire.content-model.tool-poisoning',
    name: 'Learned tier: tool definition reads as poisoned',
    description: 'The learned content model scores a tool, prompt or resource definition (or server instructions) as carrying instructions aimed at the model.',
    version: '1',
    category: 'tool_poisoning',
    ruleset: 'tapwire-content-model',
    tags: ['atlas.aml.t0051', 'owasp-mcp.mcp03'],
  },
  tool_shadowing: {
    id: 'tapwire.content-model.tool-shadowing',
    name: "Learned tier: definition changes how other tools are used",
    description: "The learned content model scores a definition as directing the model's use of other tools (shadowing).",
    version: '1',
    category: 'tool_shadowing',
    ruleset: 'tapwire-content-model',
    tags: ['atlas.aml.t0051', 'owasp-mcp.mcp03'],
  },
  prompt_injection: {
    id: 'tapwire.content-model.prompt-injection',
    name: 'Learned tier: returned content carries injected instructions',
    description: 'The learned content model scores a tool result, resource, prompt or sampling message as carrying an indirect prompt injection.',
    version: '1',
    category: 'prompt_injection',
    ruleset: 'tapwire-content-model',
    tags: ['atlas.aml.t0051.001', 'owasp-mcp.mcp06'],
  },
};

const LEVELS: AlertLevel[] = ['medium', 'high', 'critical'];

/** The level of a verdict, or undefined when it is below the hunting band. */
export function levelOf(verdict: ContentVerdict): AlertLevel | undefined {
  if (verdict.score < verdict.huntThreshold) return undefined;
  if (verdict.score < verdict.threshold) return 'informational';
  const margin = (verdict.score - verdict.threshold) / Math.max(1e-9, 1 - verdict.threshold);
  let step = margin < 0.5 ? 0 : margin < 0.9 ? 1 : 2;
  if (ESCALATED.has(verdict.attackClass)) step = Math.min(2, step + 1);
  if (CAPPED_AT_MEDIUM.has(verdict.attackClass)) step = 0;
  return LEVELS[step];
}

/** Each category's rule at each level, made once (an informational alert per benign-looking result is common). */
const RULE_AT = new Map<string, AlertRuleInfo>();

/** The rule an alert on `verdict` names, at `level`. */
export function ruleOf(verdict: ContentVerdict, level: AlertLevel): AlertRuleInfo {
  const category = CATEGORY_OF_CLASS[verdict.attackClass] ?? (verdict.head === 'content' ? 'prompt_injection' : 'tool_poisoning');
  const key = `${category} ${level}`;
  let rule = RULE_AT.get(key);
  if (rule === undefined) {
    rule = { ...RULES[category], level };
    RULE_AT.set(key, rule);
  }
  return rule;
}

/** Every rule the learned tier can raise (for listings and tests). */
export const CONTENT_MODEL_RULES: readonly Omit<AlertRuleInfo, 'level'>[] = Object.values(RULES);
