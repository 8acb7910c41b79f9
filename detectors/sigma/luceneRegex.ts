/**
 * Sigma values (RE2 regexes and wildcard strings) as Lucene regular expressions, for `field:/…/` in a Lucene
 * (query_string) query. The two dialects differ in what a match means, so this is a translation, not a spelling:
 *
 * - The engine searches (a match anywhere in the value); Lucene matches the whole term. The search becomes
 *   `.*P.*`, and Lucene's `.` is any character (RE2's `.` leaves out \n unless `s`, so it is written as a class).
 * - Lucene has no assertions (^ $ \b \B). Each one is a condition on the characters either side of it (a word
 *   boundary: a word character before and a non-word character or the end after, or the reverse), so it is
 *   removed by narrowing the last character of what precedes it and the first character of what follows it,
 *   one case per way it can hold. Alternations holding assertions are distributed first so every assertion sits
 *   in a flat sequence. Cases that cannot hold are dropped, so `\bfoo` costs one case, not two.
 * - Lucene has no flags and no escapes for classes: case folding (RE2's Unicode simple folding for `re|i`,
 *   JavaScript lower-casing for Sigma's case-insensitive strings), \d, \s, \w, \p{…} and `.` become explicit
 *   classes (re2Syntax.ts), and every ASCII character other than letters and digits is escaped.
 * Each top-level alternative is written as its own expression, so no single one grows past Lucene's limits
 * unnecessarily; a value matches when any does.
 */
import { CodePointSet, sameLowerCase, WORD_CHARS } from './codePointSet.js';
import { matchesEmpty, parseRe2, UnsupportedRegexError, type AssertionKind, type RegexNode } from './re2Syntax.js';
import type { RegexFlags } from './safeRegex.js';
import type { SigmaString } from './sigmaString.js';

export { UnsupportedRegexError };

/** A pattern refused only for the size of the automaton Lucene would build for it (regexWidening.ts may widen it). */
export class AutomatonTooLargeError extends UnsupportedRegexError {}

/** Most flat sequences one pattern may expand to before it is refused as too large. */
const MAX_SEQUENCES = 256;

const NON_WORD = WORD_CHARS.complement();
const NEWLINE = CodePointSet.chars(0x0a);
const ANY_NODE: RegexNode = { t: 'set', set: CodePointSet.ANY };
const PAD: RegexNode = { t: 'rep', item: ANY_NODE, min: 0, max: Infinity };

/** The characters allowed next to an assertion on one side; `edge`: the side may also be the start / end of the value. */
interface Side {
  chars: CodePointSet;
  edge: boolean;
}

const ANYTHING: Side = { chars: CodePointSet.ANY, edge: true };
const EDGE_ONLY: Side = { chars: CodePointSet.EMPTY, edge: true };

/** The ways each assertion can hold, as (before, after) pairs. */
const ASSERTION_CASES: Record<AssertionKind, { before: Side; after: Side }[]> = {
  'text-start': [{ before: EDGE_ONLY, after: ANYTHING }],
  'text-end': [{ before: ANYTHING, after: EDGE_ONLY }],
  'line-start': [{ before: { chars: NEWLINE, edge: true }, after: ANYTHING }],
  'line-end': [{ before: ANYTHING, after: { chars: NEWLINE, edge: true } }],
  'word-boundary': [
    { before: { chars: WORD_CHARS, edge: false }, after: { chars: NON_WORD, edge: true } },
    { before: { chars: NON_WORD, edge: true }, after: { chars: WORD_CHARS, edge: false } },
  ],
  'not-word-boundary': [
    { before: { chars: WORD_CHARS, edge: false }, after: { chars: WORD_CHARS, edge: false } },
    { before: { chars: NON_WORD, edge: true }, after: { chars: NON_WORD, edge: true } },
  ],
};

const hasAssertion = (node: RegexNode): boolean => (node.t === 'assert' ? true : node.t === 'set' ? false : node.t === 'rep' ? hasAssertion(node.item) : node.items.some(hasAssertion));

const cat = (items: RegexNode[]): RegexNode => (items.length === 1 ? (items[0] as RegexNode) : { t: 'cat', items });
const alt = (items: RegexNode[]): RegexNode | null => (items.length === 0 ? null : items.length === 1 ? (items[0] as RegexNode) : { t: 'alt', items });
const rep = (item: RegexNode, min: number, max: number): RegexNode[] => (max === 0 ? [] : min === 1 && max === 1 ? [item] : [{ t: 'rep', item, min, max }]);

/**
 * The non-empty strings of an assertion-free node whose last (`end` = 'last') or first character is in `chars`;
 * null when there are none.
 */
function narrowed(node: RegexNode, chars: CodePointSet, end: 'first' | 'last'): RegexNode | null {
  switch (node.t) {
    case 'set': {
      const set = node.set.intersect(chars);
      return set.empty ? null : { t: 'set', set };
    }
    case 'assert':
      throw new Error('assertions are removed before narrowing');
    case 'alt':
      return alt(node.items.map((item) => narrowed(item, chars, end)).filter((n): n is RegexNode => n !== null));
    case 'cat': {
      const options: RegexNode[] = [];
      const order = end === 'last' ? [...node.items.keys()].reverse() : [...node.items.keys()];
      for (const k of order) {
        const item = node.items[k] as RegexNode;
        const inner = narrowed(item, chars, end);
        // The narrowed item is the last (first) non-empty one: those after (before) it match nothing.
        if (inner) options.push(cat(end === 'last' ? [...node.items.slice(0, k), inner] : [inner, ...node.items.slice(k + 1)]));
        if (!matchesEmpty(item)) break;
      }
      return alt(options);
    }
    case 'rep': {
      if (node.max === 0) return null;
      const inner = narrowed(node.item, chars, end);
      if (!inner) return null;
      const others = rep(node.item, matchesEmpty(node.item) ? 0 : Math.max(node.min - 1, 0), node.max - 1);
      return cat(end === 'last' ? [...others, inner] : [inner, ...others]);
    }
  }
}

type Sequence = RegexNode[];

/** The sequences `seq` becomes when its last character must satisfy `side` (seq holds no assertion). */
function narrowLast(seq: Sequence, side: Side): Sequence[] {
  if (side === ANYTHING) return [seq];
  if (seq.length === 0) return side.edge ? [[]] : [];
  const last = seq[seq.length - 1] as RegexNode;
  const rest = seq.slice(0, -1);
  const out: Sequence[] = [];
  const inner = narrowed(last, side.chars, 'last');
  if (inner) out.push([...rest, inner]);
  if (matchesEmpty(last)) out.push(...narrowLast(rest, side));
  return out;
}

/** The sequences `seq` becomes when its first character must satisfy `side` (assertions in it are kept in place). */
function narrowFirst(seq: Sequence, side: Side): Sequence[] {
  if (side === ANYTHING) return [seq];
  if (seq.length === 0) return side.edge ? [[]] : [];
  const first = seq[0] as RegexNode;
  const rest = seq.slice(1);
  if (first.t === 'assert') return narrowFirst(rest, side).map((s) => [first, ...s]);
  const out: Sequence[] = [];
  const inner = narrowed(first, side.chars, 'first');
  if (inner) out.push([inner, ...rest]);
  if (matchesEmpty(first)) out.push(...narrowFirst(rest, side));
  return out;
}

/** The node as flat sequences whose assertions are all at the top level. */
function flatten(node: RegexNode): Sequence[] {
  if (!hasAssertion(node)) return [[node]];
  switch (node.t) {
    case 'assert':
      return [[node]];
    case 'alt':
      return node.items.flatMap(flatten);
    case 'cat':
      return node.items.reduce<Sequence[]>((acc, item) => {
        const next = acc.flatMap((prefix) => flatten(item).map((s) => [...prefix, ...s]));
        if (next.length > MAX_SEQUENCES) throw new UnsupportedRegexError(`its assertions expand to more than ${MAX_SEQUENCES} alternatives`);
        return next;
      }, [[]]);
    case 'rep':
      if (node.max === 1) return [...(node.min === 0 ? [[]] : []), ...flatten(node.item)];
      throw new UnsupportedRegexError('an assertion (^, $, \\b, \\B) inside a repetition');
    case 'set':
      return [[node]];
  }
}

/** Removes the assertions of a sequence, left to right. */
function withoutAssertions(seq: Sequence, out: Sequence[]): void {
  const index = seq.findIndex((n) => n.t === 'assert');
  if (index < 0) {
    out.push(seq);
    if (out.length > MAX_SEQUENCES) throw new UnsupportedRegexError(`its assertions expand to more than ${MAX_SEQUENCES} alternatives`);
    return;
  }
  const kind = (seq[index] as Extract<RegexNode, { t: 'assert' }>).kind;
  for (const { before, after } of ASSERTION_CASES[kind]) {
    for (const left of narrowLast(seq.slice(0, index), before)) {
      for (const right of narrowFirst(seq.slice(index + 1), after)) withoutAssertions([...left, ...right], out);
    }
  }
}

/** One code point in Lucene's regex syntax: ASCII letters and digits as they are, other ASCII escaped. */
function luceneChar(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (/[A-Za-z0-9]/.test(ch)) return ch;
  return cp < 0x80 ? `\\${ch}` : ch;
}

/**
 * Where class ranges are split so both ends of each are written alike (escaped ASCII, letters and digits, or raw
 * non-ASCII): Lucene misreads a range such as `\--9` from an escaped character to a plain one.
 */
const RANGE_CUTS = [0x30, 0x3a, 0x41, 0x5b, 0x61, 0x7b, 0x80, 0xd800, 0xe000];

/** A class's ranges, without surrogate code points (they never occur in an indexed term). */
function classBody(set: CodePointSet): string {
  return set.ranges
    .flatMap(([lo, hi]): [number, number][] => {
      const parts: [number, number][] = [];
      let start = lo;
      for (const cut of RANGE_CUTS) {
        if (cut > start && cut <= hi) {
          parts.push([start, cut - 1]);
          start = cut;
        }
      }
      parts.push([start, hi]);
      return parts.filter(([from]) => from < 0xd800 || from > 0xdfff);
    })
    .map(([lo, hi]) => (lo === hi ? luceneChar(lo) : `${luceneChar(lo)}${hi === lo + 1 ? '' : '-'}${luceneChar(hi)}`))
    .join('');
}

function writeSet(set: CodePointSet): string {
  if (set.ranges.length === 1 && set.ranges[0]?.[0] === 0 && set.ranges[0][1] === CodePointSet.ANY.ranges[0]?.[1]) return '.';
  if (set.size === 1) return luceneChar(set.ranges[0]?.[0] as number);
  const negated = set.complement();
  return negated.ranges.length < set.ranges.length ? `[^${classBody(negated)}]` : `[${classBody(set)}]`;
}

function write(node: RegexNode): string {
  switch (node.t) {
    case 'set':
      return writeSet(node.set);
    case 'cat':
      return node.items.length === 0 ? '()' : node.items.map((item) => (item.t === 'alt' ? `(${write(item)})` : write(item))).join('');
    case 'alt':
      return node.items.map(write).join('|');
    case 'rep': {
      const inner = write(node.item);
      const atom = node.item.t === 'set' ? inner : `(${inner})`;
      const { min, max } = node;
      if (min === 0 && max === Infinity) return `${atom}*`;
      if (min === 1 && max === Infinity) return `${atom}+`;
      if (min === 0 && max === 1) return `${atom}?`;
      if (max === Infinity) return `${atom}{${min},}`;
      return min === max ? `${atom}{${min}}` : `${atom}{${min},${max}}`;
    }
    case 'assert':
      throw new Error('assertions are removed before writing');
  }
}

/** Thompson automaton of an assertion-free node: epsilon moves and character-set moves per state. */
class Nfa {
  readonly epsilon: number[][] = [];
  readonly moves: { set: CodePointSet; to: number }[][] = [];

  state(): number {
    this.epsilon.push([]);
    this.moves.push([]);
    return this.epsilon.length - 1;
  }

  /** Adds `node` from `start`; returns its end state. */
  add(node: RegexNode, start: number): number {
    switch (node.t) {
      case 'set': {
        const end = this.state();
        this.moves[start]?.push({ set: node.set, to: end });
        return end;
      }
      case 'cat':
        return node.items.reduce((from, item) => this.add(item, from), start);
      case 'alt': {
        const end = this.state();
        for (const item of node.items) this.epsilon[this.add(item, start)]?.push(end);
        return end;
      }
      case 'rep': {
        let from = start;
        for (let i = 0; i < node.min; i++) from = this.add(node.item, from);
        if (node.max === Infinity) {
          const loop = this.state();
          this.epsilon[from]?.push(loop);
          this.epsilon[this.add(node.item, loop)]?.push(loop);
          return loop;
        }
        const end = this.state();
        for (let i = node.min; i < node.max; i++) {
          this.epsilon[from]?.push(end);
          from = this.add(node.item, from);
        }
        this.epsilon[from]?.push(end);
        return end;
      }
      case 'assert':
        throw new Error('assertions are removed before building an automaton');
    }
  }

  closure(states: Iterable<number>): number[] {
    const seen = new Set<number>(states);
    const stack = [...seen];
    while (stack.length > 0) for (const next of this.epsilon[stack.pop() as number] ?? []) if (!seen.has(next)) (seen.add(next), stack.push(next));
    return [...seen].sort((a, b) => a - b);
  }
}

/**
 * The deterministic automaton of a sequence, counted up to `cap` states: its states, and the determinization's work
 * (the sizes of the state subsets it builds, which is what Lucene's own limit counts). Lucene determinizes every
 * regular expression and gives up past a fixed amount of work (query_string's max_determinized_states), and a bounded
 * gap after an unanchored start (`.*a[^.]{0,60}b`) can need thousands of states.
 */
function determinization(seq: Sequence, cap: number): { states: number; work: number } {
  const nfa = new Nfa();
  const start = nfa.state();
  // Once the trailing `.*` is reached every continuation matches: those subsets are one accepting state.
  const trailing = seq[seq.length - 1] === PAD;
  const end = nfa.add(cat(trailing ? seq.slice(0, -1) : seq), start);
  const ids = new Map<string, number>();
  const queue: number[][] = [nfa.closure([start])];
  ids.set((queue[0] as number[]).join(','), 0);
  let work = (queue[0] as number[]).length;
  while (queue.length > 0 && ids.size <= cap) {
    const subset = queue.shift() as number[];
    if (trailing && subset.includes(end)) continue;
    const moves = subset.flatMap((s) => nfa.moves[s] ?? []);
    const cuts = [...new Set(moves.flatMap(({ set }) => set.ranges.flatMap(([lo, hi]) => [lo, hi + 1])))].sort((a, b) => a - b);
    for (const cut of cuts) {
      const targets = nfa.closure(moves.filter(({ set }) => set.has(cut)).map(({ to }) => to));
      if (targets.length === 0) continue;
      const key = trailing && targets.includes(end) ? 'accept' : targets.join(',');
      if (!ids.has(key)) {
        ids.set(key, ids.size);
        work += targets.length;
        queue.push(targets);
      }
    }
  }
  return { states: ids.size, work };
}

/**
 * Deterministic states past which an expression is refused: every exported rule's expressions stay below it, and
 * those Lucene refused or took seconds on (measured with Lucene 10.4, rules/EXPORT.md) are above it.
 */
export const MAX_DETERMINISTIC_STATES = 2_000;

/**
 * Most determinization work (determinization()) the parts of one pattern's split sequences may cost in all
 * (splitExpressions): each part is one more automaton Elasticsearch builds on every rule run. Calibrated on
 * Elasticsearch 9.4.3 (rules/EXPORT.md): the elicitation URL rule's 60 parts (98,000) ran in the time of the slowest
 * rules exported unsplit, the tool-call directive's 19 parts (214,000) several times slower.
 */
const MAX_SPLIT_WORK = 120_000;

/** Most parts one pattern may be split into: bounds the export's own time on patterns no split brings under the bound. */
const MAX_SPLIT_PARTS = 128;

/** A sequence's nested concatenations as one flat list of nodes. */
const spreadCats = (node: RegexNode): RegexNode[] => (node.t === 'cat' ? node.items.flatMap(spreadCats) : [node]);

/**
 * `.*L C{m,n}.*` where every character L can hold is in C (a key prefix and its body: `AIza[0-9A-Za-z_-]{35}`), as
 * an expression whose automaton stays small. A match lies inside one run of C characters, and the first occurrence
 * of L in that run has at least as many C characters after it as any later one; so searching for that first
 * occurrence is exact: a run's start, then C characters holding no L (`C*&~(.*L.*)`), then L and m of C. The
 * automaton then follows one occurrence at a time instead of every L seen inside the gap. Lucene runs complement
 * (`~`) and intersection (`&`) in query_string expressions. Undefined for any other shape.
 */
function firstInRunExpression(sequence: Sequence): string | undefined {
  const seq = sequence.flatMap(spreadCats);
  const gap = seq.at(-2);
  if (seq.length < 4 || seq[0] !== PAD || seq.at(-1) !== PAD || gap?.t !== 'rep' || gap.item.t !== 'set' || gap.min === 0) return undefined;
  const run = gap.item.set;
  const literal = seq.slice(1, -2);
  if (!literal.every((item) => item.t === 'set' && item.set.intersect(run.complement()).empty)) return undefined;
  // Automaton size: at most one partial L and one count of the gap at a time.
  if ((literal.length + 1) * (gap.min + 1) > MAX_DETERMINISTIC_STATES) return undefined;
  const c = writeSet(run);
  const l = write(cat(literal));
  return `(.*${writeSet(run.complement())})?((${c}*)&~(.*${l}.*))${l}${c}{${gap.min}}.*`;
}

/**
 * The sequence with each gap `G{0,n}` that follows `.*` and one character of X searched as `(G∖X){0,n}`: if X at
 * some position starts a match, the last X character before the gap's end starts one too (its gap is the tail of
 * the first one, so within G and no longer), and that one's gap holds no X. Same matches; but the automaton follows
 * one start at a time instead of every X seen inside the gap (`\p{Latin}[^\s]{0,60}\p{Cyrillic}`).
 */
function withLastStartGaps(sequence: Sequence): Sequence {
  const seq = sequence.flatMap(spreadCats);
  return seq.flatMap((node, i): RegexNode[] => {
    const start = seq[i - 1];
    if (i < 2 || seq[i - 2] !== PAD || start?.t !== 'set' || node.t !== 'rep' || node.item.t !== 'set' || node.min !== 0) return [node];
    const set = node.item.set.intersect(start.set.complement());
    // Every gap character is an X: the last X is right before the gap's end, and the gap is empty.
    return set.empty ? [] : [{ ...node, item: { t: 'set', set } }];
  });
}

interface Bounded {
  expression: string;
  work: number;
}

/** The sequence as one expression whose automaton stays within the bound (as it is or by a gap rewrite); undefined otherwise. */
function boundedExpression(seq: Sequence): Bounded | undefined {
  const plain = determinization(seq, MAX_DETERMINISTIC_STATES);
  if (plain.states <= MAX_DETERMINISTIC_STATES) return { expression: write(cat(seq.length === 0 ? [] : seq)), work: plain.work };
  const narrowed = withLastStartGaps(seq);
  const last = determinization(narrowed, MAX_DETERMINISTIC_STATES);
  if (last.states <= MAX_DETERMINISTIC_STATES) return { expression: write(cat(narrowed)), work: last.work };
  const expression = firstInRunExpression(seq);
  // Its size is bounded by its shape (firstInRunExpression); charged as if at the bound.
  return expression === undefined ? undefined : { expression, work: MAX_DETERMINISTIC_STATES };
}

/** The options of a choice in a sequence (an alternation, or an optional part: absent or present); undefined for other nodes. */
function choiceOptions(node: RegexNode): RegexNode[] | undefined {
  if (node.t === 'alt') return node.items;
  return node.t === 'rep' && node.min === 0 && node.max === 1 ? [cat([]), node.item] : undefined;
}

/** What a pattern's split parts may still cost. */
interface SplitBudget {
  parts: number;
  work: number;
}

/**
 * Expressions, any of which matches exactly what a sequence over the bound matches, each within the bound. The
 * sequence is split at its first choice into one sequence per option (a concatenation distributes over a union, so
 * this is exact), and a part still over the bound at its next choice: an automaton follows every option's partial
 * matches at once, and one option alone is much smaller (`^s://(?:[^@]{0,200}@)?(?:[a-z]{1,63}\.){0,10}xn--`
 * without the optional part, then with it). Undefined when a part has no choice left or the budget runs out.
 */
function splitExpressions(seq: Sequence, budget: SplitBudget): string[] | undefined {
  const flat = seq.flatMap(spreadCats);
  const at = flat.findIndex((node) => node !== PAD && choiceOptions(node) !== undefined);
  if (at < 0) return undefined;
  const out: string[] = [];
  for (const option of choiceOptions(flat[at] as RegexNode) as RegexNode[]) {
    const part = [...flat.slice(0, at), ...spreadCats(option), ...flat.slice(at + 1)];
    const bounded = boundedExpression(part);
    if (bounded === undefined) {
      const parts = splitExpressions(part, budget);
      if (parts === undefined) return undefined;
      out.push(...parts);
      continue;
    }
    budget.parts -= 1;
    budget.work -= bounded.work;
    if (budget.parts < 0 || budget.work < 0) return undefined;
    out.push(bounded.expression);
  }
  return out;
}

/**
 * Lucene expressions, any of which matches a whole value exactly when the sequences' search finds a match in it, and
 * their determinization work in all (a split sequence's parts counted in full, each unsplit one at its own work).
 */
function searchExpressions(sequences: readonly Sequence[]): Bounded[] {
  const out: Sequence[] = [];
  for (const seq of sequences) withoutAssertions([PAD, ...seq, PAD], out);
  const budget: SplitBudget = { parts: MAX_SPLIT_PARTS, work: MAX_SPLIT_WORK };
  const expressions = out.flatMap((seq): Bounded[] => {
    const bounded = boundedExpression(seq);
    if (bounded !== undefined) return [bounded];
    const before = budget.work;
    const parts = splitExpressions(seq, budget);
    if (parts === undefined) {
      throw new AutomatonTooLargeError(`Lucene would have to build a deterministic automaton of more than ${MAX_DETERMINISTIC_STATES} states for it (bounded gaps after an unanchored start), and no split at its alternatives within the cost budget brings every part under that, beyond what Elasticsearch runs in reasonable time`);
    }
    return parts.map((expression, i) => ({ expression, work: i === 0 ? before - budget.work : 0 }));
  });
  const unique = new Map<string, Bounded>();
  for (const e of expressions) unique.set(e.expression, { expression: e.expression, work: (unique.get(e.expression)?.work ?? 0) + e.work });
  return [...unique.values()];
}

/**
 * Lucene regular expressions, any of which matches a whole value exactly when the RE2 pattern matches somewhere
 * in it (as the engine's `re` modifier does). Throws UnsupportedRegexError with the reason otherwise; with
 * `maxWork`, also when the expressions' determinization work in all exceeds it.
 */
export function luceneRegexesOfRe2(pattern: string, flags: RegexFlags, maxWork = Infinity): string[] {
  const tree = parseRe2(pattern, flags);
  const branches = tree.t === 'alt' ? tree.items : [tree];
  const expressions = searchExpressions(branches.flatMap(flatten));
  const work = expressions.reduce((sum, e) => sum + e.work, 0);
  if (work > maxWork) throw new AutomatonTooLargeError(`its Lucene expressions cost ${work} in determinization work in all, over the ${maxWork} allowed`);
  return expressions.map((e) => e.expression);
}

/** A Lucene regular expression matching exactly the values a Sigma string matches (whole value; `*` and `?`). */
export function luceneRegexOfSigmaString(value: SigmaString, cased: boolean): string {
  const items: RegexNode[] = [];
  for (const part of value.parts) {
    if (typeof part !== 'string') {
      items.push(part.wildcard === '*' ? PAD : ANY_NODE);
      continue;
    }
    for (const ch of part) {
      const cp = ch.codePointAt(0) as number;
      items.push({ t: 'set', set: cased ? CodePointSet.chars(cp) : sameLowerCase(cp) });
    }
  }
  return write(cat(items));
}
