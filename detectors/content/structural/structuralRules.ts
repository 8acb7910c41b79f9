/**
 * The alerts of the tier-1 structural detectors: one rule per attack the signals name, with the level a
 * reviewer would give the attack when its cue is present — leaking data and steering other tools high,
 * self-promotion low. A text whose signals sit in hidden or encoded text (zero-width, Tag characters, base64…)
 * is one level higher: a legitimate description has no reason to hide what it says.
 */
import type { AlertLevel, AlertRuleInfo } from '../../alertBuilder.js';

type StructuralRule = Omit<AlertRuleInfo, 'level'> & { level: AlertLevel };

const rule = (attack: string, name: string, description: string, category: AlertRuleInfo['category'], level: AlertLevel, tags: string[]): StructuralRule => ({
  id: `tapwire.content-structure.${attack.replace(/_/g, '-')}`,
  name,
  description,
  version: '1',
  category,
  level,
  ruleset: 'tapwire-content-structure',
  tags,
});

const POISONING_TAGS = ['atlas.aml.t0051', 'owasp-mcp.mcp03'];

export const STRUCTURAL_RULES: Readonly<Record<string, StructuralRule>> = {
  poisoning: rule('poisoning', 'Definition gives the model secret or urgent orders', 'A tool, prompt or resource definition (or server instructions) tells the model to hide something from the user, or presses it to act at once.', 'tool_poisoning', 'medium', POISONING_TAGS),
  exfiltration: rule('exfiltration', 'Definition tells the model to send or read sensitive data', 'A definition tells the model to send data to a URL, address or path, to read secrets, or to fill arguments with files, credentials or the conversation.', 'tool_poisoning', 'high', [...POISONING_TAGS, 'attack.t1041']),
  shadowing: rule('shadowing', "Definition steers another tool's use", "A definition names another server's tool with an order about it, or tells the model to change or add arguments of its calls.", 'tool_shadowing', 'high', POISONING_TAGS),
  prerequisite_call: rule('prerequisite_call', 'Definition forces a call to another tool first', "A definition requires calling a tool that is not the server's own before this one (or before anything else).", 'tool_poisoning', 'medium', POISONING_TAGS),
  preference_manipulation: rule('preference_manipulation', 'Definition sells itself to the model', 'A definition claims to be the best, most trusted, official or required choice, clearly more than tools of the same kind do, to win tool selection.', 'tool_poisoning', 'low', POISONING_TAGS),
  result_injection: rule('result_injection', 'Returned content gives the model orders', 'A tool result, resource, prompt or sampling message addresses the model: overrides its instructions, hands it a new task, or poses as the system.', 'prompt_injection', 'high', ['atlas.aml.t0051.001', 'owasp-mcp.mcp06']),
  tool_transfer: rule('tool_transfer', 'Returned content redirects the model to another tool', 'Returned content claims the tool is retired or moved and tells the model to call another one instead.', 'prompt_injection', 'medium', ['atlas.aml.t0051.001', 'owasp-mcp.mcp06']),
};

const LEVELS: readonly AlertLevel[] = ['informational', 'low', 'medium', 'high', 'critical'];

/** The rule for signals of `attack`, one level higher when they come from hidden or encoded text. */
export function structuralRuleOf(attack: string, hidden: boolean): StructuralRule {
  const base = STRUCTURAL_RULES[attack] ?? STRUCTURAL_RULES.poisoning!;
  if (!hidden) return base;
  return { ...base, level: LEVELS[Math.min(LEVELS.length - 1, LEVELS.indexOf(base.level) + 1)]! };
}
