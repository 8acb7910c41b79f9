/**
 * The characters a regular expression's matches are made of, as a test the rule prefilter can run before the regex
 * (issue 13). Patterns about hidden content (control, format and variation-selector characters) have no literal text
 * for the literal prefilter, so without this every value of their fields went through the remembered-verdict lookup
 * and re2js; with it, a value of ordinary text is rejected by one native character-class scan.
 *
 * A match that is not empty consumes at least one character, and every character it consumes is in one of the
 * pattern's classes (re2Syntax.ts resolves them as RE2 does, case folding included): so a value none of whose
 * characters is in the union of those classes cannot match.
 */
import { CodePointSet, type Range } from './codePointSet.js';
import { matchesEmpty, parseRe2, type RegexNode } from './re2Syntax.js';
import type { RegexFlags } from './safeRegex.js';
import type { StringTest } from './wildcardMatcher.js';

function consumable(node: RegexNode, out: Range[]): void {
  if (node.t === 'set') out.push(...node.set.ranges);
  else if (node.t === 'cat' || node.t === 'alt') for (const item of node.items) consumable(item, out);
  else if (node.t === 'rep') consumable(node.item, out);
}

/** Characters of ordinary text: a pattern that may consume any of them gains nothing from the test. */
const ORDINARY = CodePointSet.of([
  [0x20, 0x20],
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
]);

/** UTF-16 surrogates: a lone one (cut text, broken input) may reach RE2 as a character of its own or as U+FFFD. */
const SURROGATES: Range = [0xd800, 0xdfff];

const hex = (codePoint: number): string => `\\u{${codePoint.toString(16)}}`;

/**
 * A test that a value holds a character one of `pattern`'s matches could consume; undefined when the pattern may
 * match the empty string, cannot be parsed here, or may consume ordinary text (letters, digits, space), where the
 * test would rarely reject anything. Values longer than `maxInput` (the regex sees only their start, maybe cut in a
 * surrogate pair) always pass.
 */
export function requiredCharacters(pattern: string, flags: RegexFlags, maxInput: number): StringTest | undefined {
  let tree: RegexNode;
  try {
    tree = parseRe2(pattern, flags);
  } catch {
    return undefined;
  }
  if (matchesEmpty(tree)) return undefined;
  const ranges: Range[] = [];
  consumable(tree, ranges);
  const set = CodePointSet.of(ranges);
  if (!set.intersect(ORDINARY).empty) return undefined;
  const any = new RegExp(`[${CodePointSet.of([...set.ranges, SURROGATES]).ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('')}]`, 'u');
  return (value) => value.length > maxInput || any.test(value);
}
