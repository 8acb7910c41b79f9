/**
 * What an event must hold for a rule to have any chance of matching, derived from the compiled detection at load
 * time, so the engine skips a rule without running it (issue 13: an event pays only for rules that can match it).
 *
 * A requirement is necessary, never sufficient: when it holds the rule still runs in full, so alerts are exactly
 * those of the unfiltered pack. Each detection item contributes what it cannot match without:
 *  - almost every item reads values of its field, so the field must be present (a derived field counts as present
 *    when it computes to a value); `exists: false`, a `null` value and keyword search match without it;
 *  - a case-insensitive string item (contains/startswith/endswith/equality, after its encodings) cannot match unless
 *    the lower-cased field holds the longest literal run of one of its values, and a `cased` one the literal as
 *    written: the literal prefilter (literalPrefilter.ts) answers that for every value of the pack in one pass.
 *  - a regular expression item cannot match unless the field holds, for one of its patterns, a text of each set of
 *    which every match of it contains one (safeRegex.requiredTextSets: its required literal, the alternatives of each
 *    non-optional group), searched by the same prefilter, or for a pattern without such text, one of the characters
 *    its matches consume (regexCharacters.ts);
 * `and` needs any operand's requirement, `or` needs one of each operand's, and `not` needs nothing.
 */
import type { FieldPath } from './fieldPath.js';
import { requiredCharacters } from './regexCharacters.js';
import { requiredTextSets, type RegexFlags } from './safeRegex.js';
import { ANY_RUN, ONE_CHAR, type SigmaString } from './sigmaString.js';
import type { StringTest } from './wildcardMatcher.js';

/** Literal runs of which the field must contain at least one. */
export interface LiteralNeed {
  /** Literals as the matcher compares them (lower case unless `cased`). */
  values: readonly string[];
  cased: boolean;
}

export type Requirement =
  | { kind: 'none' }
  | { kind: 'field'; path: FieldPath; literals?: LiteralNeed }
  /** One of the field's string values passes `test`. */
  | { kind: 'value'; path: FieldPath; test: StringTest }
  | { kind: 'and' | 'or'; operands: readonly Requirement[] };

export const NO_REQUIREMENT: Requirement = { kind: 'none' };

/**
 * The longest literal run of a value as its matcher compares it (`*` and `?` split runs); undefined when it has
 * none, e.g. `*` alone or an empty string, which any value of the field may match.
 */
export function longestLiteral(value: SigmaString, cased: boolean): string | undefined {
  let best = '';
  for (const part of value.parts) {
    if (part === ANY_RUN || part === ONE_CHAR || typeof part !== 'string') continue;
    const literal = cased ? part : part.toLowerCase();
    if (literal.length > best.length) best = literal;
  }
  return best === '' ? undefined : best;
}

/** The requirement of a string item's values: one literal of each value must be in the field, when each has one. */
export function stringRequirement(path: FieldPath, values: readonly SigmaString[], cased: boolean): Requirement {
  const literals: string[] = [];
  for (const value of values) {
    const literal = longestLiteral(value, cased);
    if (literal === undefined) return { kind: 'field', path };
    literals.push(literal);
  }
  return literals.length === 0 ? { kind: 'field', path } : { kind: 'field', path, literals: { values: [...new Set(literals)], cased } };
}

/**
 * The part of a case-insensitive regex literal that lower-cased text must hold wherever the regex finds the literal:
 * RE2 folds case by Unicode simple folding, and toLowerCase() agrees with it on ASCII except for 's' (RE2 also
 * folds U+017F 'ſ' to it, which stays 'ſ' when lower-cased); a non-ASCII character may fold in ways toLowerCase()
 * does not follow either. So the literal is cut at those characters and its longest remaining run kept.
 */
function lowerCasedRun(literal: string): string | undefined {
  let best = '';
  for (const run of literal.split(/[^\x00-\x7f]|[sS]/)) if (run.length > best.length) best = run;
  return best === '' ? undefined : best.toLowerCase();
}

/**
 * The requirement of a regex item's patterns: for each pattern, one of the texts all its matches contain, else (for
 * patterns without literal text) one of the characters they consume; the field alone when a pattern has neither.
 */
export function regexRequirement(path: FieldPath, patterns: readonly string[], flags: RegexFlags, maxInput: number): Requirement {
  const alternatives: Requirement[] = [];
  const tests: StringTest[] = [];
  const cased = !flags.caseInsensitive;
  for (const pattern of patterns) {
    // A set with a text that lower-casing may not keep is left out: the others are still each required.
    const sets = requiredTextSets(pattern)
      .map((texts) => texts.map((text) => (cased ? text : lowerCasedRun(text))))
      .filter((texts): texts is string[] => texts.every((text) => text !== undefined));
    if (sets.length > 0) {
      alternatives.push(allOf(sets.map((texts) => ({ kind: 'field', path, literals: { values: [...new Set(texts)], cased } }))));
      continue;
    }
    const characters = requiredCharacters(pattern, flags, maxInput);
    if (characters === undefined) return { kind: 'field', path };
    tests.push(characters);
  }
  if (tests.length > 0) alternatives.push({ kind: 'value', path, test: tests.length === 1 ? (tests[0] as StringTest) : (value) => tests.some((test) => test(value)) });
  return alternatives.length === 0 ? { kind: 'field', path } : oneOf(mergeLiteralAlternatives(alternatives));
}

/**
 * Alternatives that each need one literal of the same field (and casing) become one need of any of their literals, a
 * single lookup in the field's scan; alternatives needing several sets stay as they are.
 */
function mergeLiteralAlternatives(alternatives: readonly Requirement[]): Requirement[] {
  const single = alternatives.filter((a): a is Requirement & { kind: 'field' } => a.kind === 'field' && a.literals !== undefined);
  if (single.length < 2) return [...alternatives];
  const first = single[0] as Requirement & { kind: 'field' };
  const literals = { values: [...new Set(single.flatMap((a) => a.literals?.values ?? []))], cased: first.literals?.cased ?? false };
  return [{ kind: 'field', path: first.path, literals }, ...alternatives.filter((a) => !single.includes(a as Requirement & { kind: 'field' }))];
}

/** All of the operands' requirements: an operand without one adds nothing. */
export function allOf(operands: readonly Requirement[]): Requirement {
  const kept = operands.filter((o) => o.kind !== 'none');
  if (kept.length === 0) return NO_REQUIREMENT;
  return kept.length === 1 ? (kept[0] as Requirement) : { kind: 'and', operands: kept };
}

/** One of the operands' requirements: an operand without one makes the whole free. */
export function oneOf(operands: readonly Requirement[]): Requirement {
  if (operands.length === 0 || operands.some((o) => o.kind === 'none')) return NO_REQUIREMENT;
  return operands.length === 1 ? (operands[0] as Requirement) : { kind: 'or', operands };
}
