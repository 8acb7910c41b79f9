/**
 * Compiles a parsed detection (search identifiers + condition) into a predicate over an EventContext, and an
 * explanation of which fields and values made it true (for alert.matched), computed only for matches.
 */
import { compileDetectionItem, type ItemCompileOptions, type ItemMatcher } from './detectionItem.js';
import type { EventContext } from './eventContext.js';
import type { ConditionNode, SearchIdentifier, SigmaDetectionRule } from './ruleModel.js';
import { allOf, NO_REQUIREMENT, oneOf, type Requirement } from './ruleRequirement.js';

/** A field and the (bounded later) value that satisfied it. */
export interface MatchedValue {
  field: string;
  value?: string;
}

export interface CompiledDetection {
  test(ctx: EventContext): boolean;
  explain(ctx: EventContext): MatchedValue[];
  /** What an event must hold for test() to be true (ruleRequirement.ts). */
  requirement: Requirement;
}

type CompiledIdentifier = CompiledDetection;

function explainItems(items: readonly ItemMatcher[], ctx: EventContext): MatchedValue[] {
  return items.map((item) => {
    const value = item.witness(ctx);
    return value === undefined ? { field: item.field } : { field: item.field, value };
  });
}

function compileIdentifier(identifier: SearchIdentifier, options: ItemCompileOptions): CompiledIdentifier {
  const alternatives = identifier.alternatives.map((group) => group.map((item) => compileDetectionItem(item, options)));
  const groupMatches = (group: readonly ItemMatcher[], ctx: EventContext): boolean => {
    for (const item of group) if (!item.test(ctx)) return false;
    return true;
  };
  return {
    requirement: oneOf(alternatives.map((group) => allOf(group.map((item) => item.requirement)))),
    test: (ctx) => {
      for (const group of alternatives) if (groupMatches(group, ctx)) return true;
      return false;
    },
    explain: (ctx) => {
      const group = alternatives.find((g) => groupMatches(g, ctx));
      return group ? explainItems(group, ctx) : [];
    },
  };
}

function compileCondition(node: ConditionNode, identifiers: ReadonlyMap<string, CompiledIdentifier>): CompiledIdentifier {
  switch (node.type) {
    case 'ref':
      return identifiers.get(node.name) as CompiledIdentifier;
    case 'not': {
      const operand = compileCondition(node.operand, identifiers);
      return { test: (ctx) => !operand.test(ctx), explain: () => [], requirement: NO_REQUIREMENT };
    }
    case 'and':
    case 'or':
    case 'of': {
      const operands = node.type === 'of' ? node.names.map((name) => identifiers.get(name) as CompiledIdentifier) : node.operands.map((o) => compileCondition(o, identifiers));
      const every = node.type === 'and' || (node.type === 'of' && node.quantifier === 'all');
      if (every) {
        return {
          requirement: allOf(operands.map((o) => o.requirement)),
          test: (ctx) => {
            for (const o of operands) if (!o.test(ctx)) return false;
            return true;
          },
          explain: (ctx) => operands.flatMap((o) => o.explain(ctx)),
        };
      }
      return {
        requirement: oneOf(operands.map((o) => o.requirement)),
        test: (ctx) => {
          for (const o of operands) if (o.test(ctx)) return true;
          return false;
        },
        explain: (ctx) => operands.find((o) => o.test(ctx))?.explain(ctx) ?? [],
      };
    }
  }
}

/** Compiles the rule's detection; throws SigmaRuleError (FILE:LINE) for any unsupported value or modifier. */
export function compileDetection(rule: SigmaDetectionRule, options: ItemCompileOptions): CompiledDetection {
  const identifiers = new Map<string, CompiledIdentifier>();
  for (const [name, identifier] of rule.identifiers) identifiers.set(name, compileIdentifier(identifier, options));
  const condition = compileCondition({ type: 'or', operands: rule.conditions }, identifiers);
  return condition;
}
