/** The typed Sigma rule model the parser produces and the compiler consumes (Sigma specification v2). */
import type { AlertCategory, AlertLevel } from '../alertBuilder.js';
import type { YamlScalar } from './positionedYaml.js';

export type SigmaLevel = AlertLevel;

/** The alert schema's rule.category values; a Tapwire rule names one with the tag `tapwire.category.<name>`. */
export type TapwireCategory = AlertCategory;

/** Where a rule (or part of it) was written. */
export interface RuleLocation {
  file: string;
  line: number;
}

/** The descriptive fields every rule kind shares. */
export interface SigmaRuleMeta {
  title: string;
  id: string;
  name?: string;
  description: string;
  references: string[];
  authors: string[];
  date?: string;
  modified?: string;
  level?: SigmaLevel;
  tags: string[];
  /** From the `tapwire.category.<name>` tag; required on every rule that produces alerts. */
  category?: TapwireCategory;
  location: RuleLocation;
}

/** A rule value as written, with its line. */
export interface DetectionValue {
  value: YamlScalar;
  line: number;
}

/** `field|mod|mod: values` (field undefined for keyword search). */
export interface DetectionItem {
  field: string | undefined;
  modifiers: string[];
  values: DetectionValue[];
  /** Whether the values were written as a list (the `all` modifier needs one). */
  listed: boolean;
  line: number;
}

/** A search identifier: alternatives (OR) of item groups (AND). */
export interface SearchIdentifier {
  name: string;
  line: number;
  alternatives: DetectionItem[][];
}

/** The condition expression tree, with `x of` forms already resolved to identifier names. */
export type ConditionNode =
  | { type: 'and' | 'or'; operands: ConditionNode[] }
  | { type: 'not'; operand: ConditionNode }
  | { type: 'ref'; name: string }
  | { type: 'of'; quantifier: 'one' | 'all'; names: string[] };

export interface SigmaLogsource {
  product: string;
  category?: string;
}

export interface SigmaDetectionRule {
  kind: 'detection';
  meta: SigmaRuleMeta;
  logsource: SigmaLogsource;
  identifiers: Map<string, SearchIdentifier>;
  /** A list of conditions means OR. */
  conditions: ConditionNode[];
}

export type CorrelationType = 'event_count' | 'value_count' | 'temporal' | 'temporal_ordered';

/** Bounds on the correlation count; several keys are ANDed (`gt: 100, lte: 200`). */
export interface CountBounds {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
}

export interface RuleReference {
  ref: string;
  line: number;
}

export interface SigmaCorrelationRule {
  kind: 'correlation';
  meta: SigmaRuleMeta;
  type: CorrelationType;
  rules: RuleReference[];
  groupBy: string[];
  timespanMs: number;
  timespanText: string;
  bounds: CountBounds;
  /** value_count: the field whose distinct values are counted. */
  valueField?: string;
  /** alias → (referenced rule name or id → field in that rule's events). */
  aliases: Map<string, Map<string, string>>;
  /** Whether the referenced rules also alert on their own. */
  generate: boolean;
}

export type SigmaRule = SigmaDetectionRule | SigmaCorrelationRule;
