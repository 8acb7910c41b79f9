/** Rules after compilation: what the engine runs, and what a rule match hands on to correlations and alerts. */
import type { AlertContext, AlertSource } from '../alertBuilder.js';
import type { CompiledDetection, MatchedValue } from './detectionCompiler.js';
import type { FieldPath } from './fieldPath.js';
import type { SigmaCorrelationRule, SigmaRuleMeta } from './ruleModel.js';

/** Bounds on correlation state, per correlation rule. */
export interface CorrelationLimits {
  /** Group-by keys kept at once; the least recently used is evicted beyond this. */
  maxGroups: number;
  /** Matches kept per group (and the largest count a condition may ask for). */
  maxEventsPerGroup: number;
  /** Source event ids an alert lists (the most recent ones). */
  maxAlertSources: number;
}

export const DEFAULT_CORRELATION_LIMITS: CorrelationLimits = {
  maxGroups: 10_000,
  maxEventsPerGroup: 1_000,
  maxAlertSources: 100,
};

export interface CompiledDetectionRule {
  kind: 'detection';
  meta: SigmaRuleMeta;
  /** The MCP log source category the rule runs on; undefined = every event. */
  logsourceCategory: string | undefined;
  detection: CompiledDetection;
  /** False when the rule only feeds correlations (referenced, and no referencing correlation sets generate). */
  alerts: boolean;
}

export interface CompiledCorrelationRule {
  kind: 'correlation';
  meta: SigmaRuleMeta;
  definition: SigmaCorrelationRule;
  /** The referenced rules, in the order the correlation lists them. */
  rules: CompiledRule[];
  limits: CorrelationLimits;
  /** False when the correlation only feeds another correlation. */
  alerts: boolean;
}

export type CompiledRule = CompiledDetectionRule | CompiledCorrelationRule;

/** One match of a rule: a single event for a detection rule, a window of events for a correlation. */
export interface RuleHit {
  /** Event time (epoch ms) of the latest event in the match. */
  time: number;
  sources: readonly AlertSource[];
  /** Context of the first event in the match. */
  context: AlertContext;
  /** The fields and values that matched; computed only when an alert is built. */
  matched(): MatchedValue[];
  /** The match's values of a field: the event's for a detection, the group-by values for a correlation. */
  values(field: FieldPath): readonly string[];
  details?: Record<string, unknown>;
}
