/**
 * A Sigma detection rule as a query tree that Elasticsearch query languages can be written from: boolean
 * operators over field comparisons, with values already transformed by their modifiers exactly as the engine
 * transforms them, and regexes kept as RE2 patterns for the writer to translate. What no Elasticsearch query can
 * express (field references, keyword search, derived fields Elasticsearch does not store) is refused here with
 * the reason; what only one language lacks is refused by its writer.
 */
import { identifiersReadBy } from './conditionReferences.js';
import { applyStep } from './detectionItem.js';
import { elasticFieldsOf, type ElasticFieldType } from './elasticFieldTypes.js';
import { mcpLogsourceCategory } from './mcpLogsource.js';
import { planModifiers, type Comparison, type ModifierPlan } from './modifierPlan.js';
import type { ConditionNode, DetectionItem, SearchIdentifier, SigmaDetectionRule } from './ruleModel.js';
import type { RegexFlags } from './safeRegex.js';
import { parseSigmaString, sigmaStringOf, type PlaceholderValues, type SigmaString } from './sigmaString.js';

/** A field as the query uses it. */
export interface QueryField {
  name: string;
  type: ElasticFieldType;
}

export type QueryNode =
  | { kind: 'and' | 'or'; operands: QueryNode[] }
  | { kind: 'not'; operand: QueryNode }
  /** The field has a value matching the Sigma string (literal text and * / ? wildcards). */
  | { kind: 'string'; field: QueryField; value: SigmaString; cased: boolean }
  | { kind: 'exists'; field: QueryField }
  | { kind: 'range'; field: QueryField; comparison: Comparison; value: number }
  | { kind: 'cidr'; field: QueryField; network: string }
  /** The field has a value in which the RE2 pattern finds a match (the `re` modifier). */
  | { kind: 'regex'; field: QueryField; pattern: string; flags: RegexFlags; line: number };

/** Why a rule has no form in an Elasticsearch query language. */
export class UntranslatableRuleError extends Error {
  /** `reason` is one sentence; `line` the rule line it concerns, when there is one. */
  constructor(
    readonly reason: string,
    readonly line?: number,
  ) {
    super(line === undefined ? reason : `line ${line}: ${reason}`);
    this.name = 'UntranslatableRuleError';
  }
}

export interface DetectionQueryOptions {
  /** Values for `%name%` placeholders (the `expand` modifier), as given to the compiler. */
  placeholders?: Readonly<Record<string, readonly string[]>>;
}

const NUMERIC_TYPES: readonly ElasticFieldType[] = ['long', 'double'];

/** Whether a value has letters whose case a case-insensitive comparison would fold. */
export function hasCasedLetters(value: SigmaString): boolean {
  return value.parts.some((p) => typeof p === 'string' && p.toLowerCase() !== p.toUpperCase());
}

/** The Sigma value as the rule wrote it (wildcards as `*` and `?`), for messages. */
export function describeSigmaValue(value: SigmaString): string {
  return value.parts.map((p) => (typeof p === 'string' ? p : p.wildcard)).join('');
}

/** Joins operands, flattening nested nodes of the same kind. */
export function combine(kind: 'and' | 'or', operands: readonly QueryNode[]): QueryNode {
  const flat = operands.flatMap((o) => (o.kind === kind ? o.operands : [o]));
  return flat.length === 1 ? (flat[0] as QueryNode) : { kind, operands: flat };
}

const not = (operand: QueryNode): QueryNode => ({ kind: 'not', operand });

class DetectionTranslator {
  private readonly placeholders: PlaceholderValues;

  constructor(options: DetectionQueryOptions) {
    const table = options.placeholders ?? {};
    this.placeholders = (name) => (Object.hasOwn(table, name) ? table[name] : undefined);
  }

  /** The fields a rule field reads in Elasticsearch (several for an object), or the reason there are none. */
  fields(name: string, line: number): QueryField[] {
    return elasticFieldsOf(name).map((field) => {
      if ('missing' in field) throw new UntranslatableRuleError(field.missing, line);
      return field;
    });
  }

  item(item: DetectionItem): QueryNode {
    if (item.field === undefined) throw new UntranslatableRuleError('keyword search (values without a field) has no exact Elasticsearch form', item.line);
    const plan = planModifiers(item.modifiers, false);
    const fields = this.fields(item.field, item.line);
    const [field] = fields as [QueryField];
    const anyField = (node: (f: QueryField) => QueryNode): QueryNode => combine('or', fields.map(node));
    const single = (what: string): QueryField => {
      if (fields.length > 1) throw new UntranslatableRuleError(`'${item.field}|${what}' on an object: only string matching and exists spread over its sub-fields`, item.line);
      return field;
    };
    switch (plan.kind) {
      case 're':
        return this.values(plan, fields, item.values.flatMap(({ value, line }) => fields.map((field): QueryNode => ({ kind: 'regex', field, pattern: String(value), flags: plan.regexFlags, line }))));
      case 'fieldref':
        throw new UntranslatableRuleError(`'${item.field}|fieldref' compares two fields of one event, which a query cannot`, item.line);
      case 'time':
        throw new UntranslatableRuleError(`'${item.field}|${plan.timePart}' compares a part of a date, which a query cannot`, item.line);
      case 'exists': {
        const exists = anyField((f) => ({ kind: 'exists', field: f }));
        return item.values[0]?.value === true ? exists : not(exists);
      }
      case 'cidr': {
        const ip = single('cidr');
        if (ip.type !== 'ip') throw new UntranslatableRuleError(`'${item.field}|cidr' needs an ip field; '${item.field}' is ${ip.type} in Elasticsearch`, item.line);
        return this.values(plan, fields, item.values.map((v) => ({ kind: 'cidr', field: ip, network: String(v.value) })));
      }
      case 'compare': {
        const numeric = single(plan.comparison as string);
        if (!NUMERIC_TYPES.includes(numeric.type)) {
          throw new UntranslatableRuleError(`'${item.field}|${plan.comparison}' needs a numeric field; '${item.field}' is ${numeric.type} in Elasticsearch, which compares it as text`, item.line);
        }
        return this.values(plan, fields, item.values.map((v) => ({ kind: 'range', field: numeric, comparison: plan.comparison as Comparison, value: v.value as number })));
      }
      case 'string':
        return this.strings(item, plan, fields);
    }
  }

  /** OR (or AND for `all`) of per-value nodes, negated for `neq` (which also needs a value to be there). */
  private values(plan: ModifierPlan, fields: readonly QueryField[], nodes: QueryNode[]): QueryNode {
    const any = combine(plan.all ? 'and' : 'or', nodes);
    if (!plan.neq) return any;
    return combine('and', [combine('or', fields.map((field): QueryNode => ({ kind: 'exists', field }))), not(any)]);
  }

  private strings(item: DetectionItem, plan: ModifierPlan, fields: readonly QueryField[]): QueryNode {
    // base64 text is case-sensitive by nature, as in the engine.
    const cased = plan.cased || plan.steps.includes('base64') || plan.steps.includes('base64offset');
    const nodes = item.values.map(({ value }): QueryNode => {
      if (value === null) return not(combine('or', fields.map((field): QueryNode => ({ kind: 'exists', field }))));
      let variants = typeof value === 'string' ? parseSigmaString(value, plan.expand ? this.placeholders : undefined) : [sigmaStringOf([String(value)])];
      for (const step of plan.steps) variants = variants.flatMap((s) => applyStep(step, s));
      return combine('or', variants.flatMap((s) => fields.map((field): QueryNode => ({ kind: 'string', field, value: s, cased }))));
    });
    return this.values(plan, fields, nodes);
  }

  identifier(identifier: SearchIdentifier): QueryNode {
    return combine('or', identifier.alternatives.map((group) => combine('and', group.map((item) => this.item(item)))));
  }

  condition(node: ConditionNode, identifiers: ReadonlyMap<string, QueryNode>): QueryNode {
    switch (node.type) {
      case 'ref':
        return identifiers.get(node.name) as QueryNode;
      case 'not':
        return not(this.condition(node.operand, identifiers));
      case 'of':
        return combine(node.quantifier === 'all' ? 'and' : 'or', node.names.map((name) => identifiers.get(name) as QueryNode));
      case 'and':
      case 'or':
        return combine(node.type, node.operands.map((o) => this.condition(o, identifiers)));
    }
  }
}

/** The events of an MCP log source category, as a query (undefined: every event). */
export function logsourceQuery(categoryName: string | undefined): QueryNode | undefined {
  if (categoryName === undefined) return undefined;
  const category = mcpLogsourceCategory(categoryName);
  if (!category) throw new UntranslatableRuleError(`unknown logsource category '${categoryName}'`);
  const exact = (name: string, type: ElasticFieldType, values: readonly string[]): QueryNode =>
    combine('or', values.map((v) => ({ kind: 'string', field: { name, type }, value: sigmaStringOf([v]), cased: true })));
  const parts: QueryNode[] = [];
  // event.action carries the method on every message event (the engine reads mcp.method.name, else event.action).
  if (category.methods) parts.push(exact('event.action', 'keyword', category.methods));
  if (category.kinds) parts.push(exact('mcp.message.kind', 'keyword', category.kinds));
  if (category.present) parts.push({ kind: 'exists', field: { name: category.present, type: 'object' } });
  return combine('and', parts);
}

/** The rule's detection (with its log source filter) as a query tree; throws UntranslatableRuleError. */
export function detectionQueryOf(rule: SigmaDetectionRule, options: DetectionQueryOptions = {}): QueryNode {
  const translator = new DetectionTranslator(options);
  const identifiers = new Map<string, QueryNode>();
  // Identifiers the condition never reads cannot stop a translation.
  for (const name of identifiersReadBy(rule.conditions)) identifiers.set(name, translator.identifier(rule.identifiers.get(name) as SearchIdentifier));
  const detection = combine('or', rule.conditions.map((c) => translator.condition(c, identifiers)));
  const source = logsourceQuery(rule.logsource.category);
  return source ? combine('and', [source, detection]) : detection;
}

/** Every field the query reads, once each, in order of appearance. */
export function queryFields(node: QueryNode, out = new Map<string, QueryField>()): QueryField[] {
  if ('operands' in node) node.operands.forEach((o) => queryFields(o, out));
  else if ('operand' in node) queryFields(node.operand, out);
  else if (!out.has(node.field.name)) out.set(node.field.name, node.field);
  return [...out.values()];
}
