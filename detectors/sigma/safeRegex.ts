/**
 * The `re` modifier, made safe. Patterns run on re2js (a port of RE2: linear-time matching, no backtracking),
 * because V8's backtracking engine is polynomial even on ordinary-looking patterns (`a.*b.*c` took 18 s on
 * 4 KB) and no static check can rule that out. On top of that, patterns that backtrack catastrophically in
 * backtracking engines (nested unbounded quantifiers, backreferences, lookaround) are rejected, so a rule stays
 * safe when converted for other backends; and every input is cut to a bounded length before matching.
 */
import { RE2JS } from 're2js';
import type { StringTest } from './wildcardMatcher.js';

export interface RegexFlags {
  caseInsensitive: boolean;
  multiLine: boolean;
  dotAll: boolean;
}

interface GroupFrame {
  /** The group contains an unbounded quantifier (*, +, {n,}) somewhere inside. */
  unbounded: boolean;
}

/** Reads a quantifier at `i`: its length, whether it may repeat without bound, and whether it may match nothing. */
function quantifierAt(pattern: string, i: number): { length: number; unbounded: boolean; optional: boolean } | undefined {
  const ch = pattern[i];
  if (ch === '*') return { length: 1, unbounded: true, optional: true };
  if (ch === '+') return { length: 1, unbounded: true, optional: false };
  if (ch === '?') return { length: 1, unbounded: false, optional: true };
  if (ch !== '{') return undefined;
  const m = /^\{([0-9]+)(,([0-9]*))?\}/.exec(pattern.slice(i));
  if (!m) return undefined;
  return { length: m[0].length, unbounded: m[2] !== undefined && m[3] === '', optional: Number(m[1]) === 0 };
}

/** The index of the `]` closing the character class that opens at `i`. */
function classEnd(pattern: string, i: number): number {
  let j = i + 1;
  if (pattern[j] === '^') j++;
  if (pattern[j] === ']') j++;
  while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
  return j;
}

/** The index of the `)` closing the group that opens at `i`. */
function groupEnd(pattern: string, i: number): number {
  let depth = 0;
  for (let j = i; j < pattern.length; j++) {
    const ch = pattern[j];
    if (ch === '\\') j++;
    else if (ch === '[') j = classEnd(pattern, j);
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return j;
  }
  return pattern.length;
}

/** Why the pattern is refused, or undefined when it is acceptable. */
export function unsafeRegexReason(pattern: string): string | undefined {
  const stack: GroupFrame[] = [{ unbounded: false }];
  let lastAtomGroup: GroupFrame | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    const top = stack[stack.length - 1] as GroupFrame;
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return `backreference \\${next} at offset ${i}`;
      i++;
      lastAtomGroup = undefined;
      continue;
    }
    if (ch === '[') {
      i = classEnd(pattern, i);
      lastAtomGroup = undefined;
      continue;
    }
    if (ch === '(') {
      if (/^\(\?<?[=!]/.test(pattern.slice(i))) return `lookaround at offset ${i}`;
      stack.push({ unbounded: false });
      lastAtomGroup = undefined;
      continue;
    }
    if (ch === ')') {
      const closed = stack.length > 1 ? (stack.pop() as GroupFrame) : { unbounded: false };
      const parent = stack[stack.length - 1] as GroupFrame;
      parent.unbounded ||= closed.unbounded;
      lastAtomGroup = closed;
      continue;
    }
    const quantifier = quantifierAt(pattern, i);
    if (quantifier) {
      if (quantifier.unbounded && lastAtomGroup?.unbounded) return `nested unbounded quantifier at offset ${i} (like (a+)+), which backtracks catastrophically`;
      if (quantifier.unbounded) top.unbounded = true;
      i += quantifier.length - 1;
      if (pattern[i + 1] === '?') i++;
      lastAtomGroup = undefined;
      continue;
    }
    lastAtomGroup = undefined;
  }
  return undefined;
}

/** The index of the last character of the escape that starts at `i` (`\\x{200B}`, `\\x1b`, `\\p{Latin}`, `\\pL`, `\\d` ...). */
function escapeEnd(pattern: string, i: number): number {
  const kind = pattern[i + 1];
  if (kind === 'x' || kind === 'p' || kind === 'P') {
    if (pattern[i + 2] === '{') {
      const close = pattern.indexOf('}', i + 3);
      return close < 0 ? pattern.length - 1 : close;
    }
    return Math.min(i + (kind === 'x' ? 3 : 2), pattern.length - 1);
  }
  return i + 1;
}

/**
 * The longest literal text every match must contain (outside groups, classes and optional parts), so most
 * values can be rejected with a plain substring search before the regex runs. Undefined when the pattern has
 * top-level alternation or inline flags, or no literal of at least three characters.
 */
export function requiredLiteral(pattern: string): string | undefined {
  if (/\(\?[a-zA-Z-]+[:)]/.test(pattern)) return undefined;
  let best = '';
  let run = '';
  const endRun = (): void => {
    if (run.length > best.length) best = run;
    run = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    let literal: string | undefined;
    if (ch === '|') return undefined;
    if (ch === '\\') {
      const escaped = pattern[i + 1];
      if (escaped !== undefined && /[^A-Za-z0-9]/.test(escaped)) literal = escaped;
      i = escapeEnd(pattern, i);
    } else if (ch === '[' || ch === '(') {
      i = ch === '[' ? classEnd(pattern, i) : groupEnd(pattern, i);
    } else if (!'.^$*+?{'.includes(ch)) {
      literal = ch;
    }
    const quantifier = quantifierAt(pattern, i + 1);
    if (quantifier) i += quantifier.length + (pattern[i + quantifier.length + 1] === '?' ? 1 : 0);
    if (literal === undefined || quantifier?.optional) {
      endRun();
      continue;
    }
    run += literal;
    if (quantifier) endRun();
  }
  endRun();
  return best.length >= 3 ? best : undefined;
}

/** The branches of `body` split at its top-level `|` (not inside groups or classes). */
function topLevelBranches(body: string): string[] {
  const branches: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '\\') i++;
    else if (ch === '[') i = classEnd(body, i);
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) {
      branches.push(body.slice(start, i));
      start = i + 1;
    }
  }
  branches.push(body.slice(start));
  return branches;
}

/** The literal text every match of `branch` starts with (after zero-width assertions), up to its first non-literal. */
function leadingLiteral(branch: string): string {
  let i = 0;
  while (branch[i] === '^' || (branch[i] === '\\' && (branch[i + 1] === 'b' || branch[i + 1] === 'B'))) i += branch[i] === '^' ? 1 : 2;
  let text = '';
  for (; i < branch.length; i++) {
    const ch = branch[i] as string;
    let literal: string | undefined;
    let length = 1;
    if (ch === '\\') {
      const escaped = branch[i + 1];
      if (escaped !== undefined && /[^A-Za-z0-9]/.test(escaped)) literal = escaped;
      length = 2;
    } else if (!'.^$*+?{[()|'.includes(ch)) {
      literal = ch;
    }
    if (literal === undefined) return text;
    const quantifier = quantifierAt(branch, i + length);
    if (quantifier?.optional) return text;
    text += literal;
    if (quantifier) return text;
    i += length - 1;
  }
  return text;
}

/** For each branch, a literal every match of it contains (its required literal, else its leading one), when each has at least two characters. */
function branchLiterals(branches: readonly string[]): string[] | undefined {
  const literals = branches.map((branch) => requiredLiteral(branch) ?? leadingLiteral(branch));
  return literals.every((l) => l.length >= 2) ? literals : undefined;
}

/**
 * For each non-optional top-level group (not a lookaround or named group) whose every branch has a literal, those
 * literals: every match passes through the group once at least, so it contains one of them.
 */
function groupAlternatives(pattern: string): string[][] {
  const sets: string[][] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '[') {
      i = classEnd(pattern, i);
      continue;
    }
    if (ch !== '(') continue;
    const end = groupEnd(pattern, i);
    const optional = quantifierAt(pattern, end + 1)?.optional ?? false;
    const opening = pattern.slice(i + 1, end);
    if (!optional && !/^\?[=!<]/.test(opening) && (!opening.startsWith('?') || opening.startsWith('?:'))) {
      const literals = branchLiterals(topLevelBranches(opening.replace(/^\?:/, '')));
      if (literals) sets.push(literals);
    }
    i = end;
  }
  return sets;
}

/**
 * Texts one of which every match must contain: a literal of each branch of a top-level alternation, or of
 * each branch of the first non-optional top-level group where every branch has one (`\b(?:ignore|disregard)\s+...`
 * needs "ignore" or "disregard"). Undefined when there is no such group or the pattern has inline flags.
 */
export function requiredAlternatives(pattern: string): string[] | undefined {
  if (/\(\?[a-zA-Z-]+[:)]/.test(pattern)) return undefined;
  const branches = topLevelBranches(pattern);
  if (branches.length > 1) return branchLiterals(branches);
  return groupAlternatives(pattern)[0];
}

/**
 * Sets of texts of which every match contains one of each, as the pattern compares them (case-folded when it is
 * case-insensitive): its required literal and the alternatives of every non-optional top-level group, or those of a
 * top-level alternation; empty when it has none. The rule prefilter needs all of them (issue 13: one word of a
 * phrase, "read" of "read ... ~/.ssh", let ordinary descriptions through to the regex).
 */
export function requiredTextSets(pattern: string): string[][] {
  if (/\(\?[a-zA-Z-]+[:)]/.test(pattern)) return [];
  const branches = topLevelBranches(pattern);
  if (branches.length > 1) {
    const literals = branchLiterals(branches);
    return literals ? [literals] : [];
  }
  const literal = requiredLiteral(pattern);
  return [...(literal === undefined ? [] : [[literal]]), ...groupAlternatives(pattern)];
}

/**
 * Compiles a Sigma `re` value to a test that sees at most `maxInput` characters of each value; a value without
 * the pattern's required literal, or without any of its required alternatives, is rejected before the regex runs.
 * Throws a plain Error with the reason when the pattern is unsafe or invalid.
 */
export function compileSafeRegex(pattern: string, flags: RegexFlags, maxInput: number): StringTest {
  const reason = unsafeRegexReason(pattern);
  if (reason) throw new Error(`regular expression '${pattern}' is refused: ${reason}`);
  let re: RE2JS;
  try {
    re = RE2JS.compile(
      pattern,
      (flags.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0) | (flags.multiLine ? RE2JS.MULTILINE : 0) | (flags.dotAll ? RE2JS.DOTALL : 0),
    );
  } catch (error) {
    throw new Error(`regular expression '${pattern}' is invalid: ${(error as Error).message}`);
  }
  const run = (value: string): boolean => re.test(value.length > maxInput ? value.slice(0, maxInput) : value);
  // Plain literals (with Unicode case folding, as RE2 folds): linear, no backtracking possible.
  const anyOf = (needles: readonly string[]): RegExp => new RegExp(needles.map((n) => n.replace(/[\^$.*+?()[\]{}|/\\]/g, '\\$&')).join('|'), flags.caseInsensitive ? 'iu' : 'u');
  const literal = requiredLiteral(pattern);
  const alternatives = requiredAlternatives(pattern);
  const hasLiteral: StringTest | undefined =
    literal === undefined ? undefined : flags.caseInsensitive ? ((folded) => (value) => folded.test(value))(anyOf([literal])) : (value) => value.includes(literal);
  const hasAlternative = alternatives === undefined ? undefined : anyOf(alternatives);
  if (hasLiteral && hasAlternative) return (value) => hasLiteral(value) && hasAlternative.test(value) && run(value);
  if (hasLiteral) return (value) => hasLiteral(value) && run(value);
  if (hasAlternative) return (value) => hasAlternative.test(value) && run(value);
  return run;
}
