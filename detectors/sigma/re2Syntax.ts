/**
 * Parses a Sigma `re` value in RE2 syntax (the dialect the engine runs, safeRegex.ts) into a tree whose character
 * classes are explicit code point sets: escapes (\d \s \w \pL \p{Greek} \x{..}), negation, `.` and the i, m, s flags
 * are resolved here exactly as RE2 resolves them, so a writer for another dialect only has to spell sets,
 * concatenation, alternation, repetition and the zero-width assertions. Capture groups, laziness and
 * greediness do not change whether a pattern matches, so the tree drops them.
 */
import { RE2JS } from 're2js';
import { caseCandidates, CodePointSet, MAX_CODE_POINT, WORD_CHARS } from './codePointSet.js';
import type { RegexFlags } from './safeRegex.js';

/** Zero-width assertions: ^ $ without m (text), with m (line), \A \z, \b \B. */
export type AssertionKind = 'text-start' | 'text-end' | 'line-start' | 'line-end' | 'word-boundary' | 'not-word-boundary';

export type RegexNode =
  | { t: 'set'; set: CodePointSet }
  | { t: 'cat'; items: RegexNode[] }
  | { t: 'alt'; items: RegexNode[] }
  | { t: 'rep'; item: RegexNode; min: number; max: number; span?: RepeatSpan }
  | { t: 'assert'; kind: AssertionKind };

/**
 * Where a parsed repetition is spelled in the pattern (offsets into it): its atom starts at `start`, its quantifier
 * (`*`, `{0,60}`…) runs from `quantifier` to `end`, before any laziness `?`. Lets a rewrite of the pattern name and
 * replace one quantifier as the author wrote it (regexWidening.ts).
 */
export interface RepeatSpan {
  start: number;
  quantifier: number;
  end: number;
}

/** Whether the node matches the empty string (somewhere). */
export function matchesEmpty(node: RegexNode): boolean {
  switch (node.t) {
    case 'set':
      return false;
    case 'assert':
      return true;
    case 'cat':
      return node.items.every(matchesEmpty);
    case 'alt':
      return node.items.some(matchesEmpty);
    case 'rep':
      return node.min === 0 || matchesEmpty(node.item);
  }
}

/** A pattern the parser cannot represent (RE2 accepts more than Sigma rules need). */
export class UnsupportedRegexError extends Error {}

const DIGITS = CodePointSet.of([[0x30, 0x39]]);
/** RE2's \s is ASCII: tab, newline, form feed, carriage return, space (not \v). */
const SPACES = CodePointSet.chars(0x09, 0x0a, 0x0c, 0x0d, 0x20);
const NEWLINE = CodePointSet.chars(0x0a);

const POSIX: Record<string, CodePointSet> = {
  alnum: CodePointSet.of([[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]),
  alpha: CodePointSet.of([[0x41, 0x5a], [0x61, 0x7a]]),
  ascii: CodePointSet.of([[0, 0x7f]]),
  blank: CodePointSet.chars(0x09, 0x20),
  cntrl: CodePointSet.of([[0, 0x1f], [0x7f, 0x7f]]),
  digit: DIGITS,
  graph: CodePointSet.of([[0x21, 0x7e]]),
  lower: CodePointSet.of([[0x61, 0x7a]]),
  print: CodePointSet.of([[0x20, 0x7e]]),
  punct: CodePointSet.of([[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]),
  space: CodePointSet.of([[0x09, 0x0d], [0x20, 0x20]]),
  upper: CodePointSet.of([[0x41, 0x5a]]),
  word: WORD_CHARS,
  xdigit: CodePointSet.of([[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]),
};

const unicodeClasses = new Map<string, CodePointSet>();

/** \p{Name}: a general category (L, Lu, ...) or a script (Greek, Latin, ...), as JavaScript's Unicode tables hold it. */
function unicodeClass(name: string): CodePointSet {
  const cached = unicodeClasses.get(name);
  if (cached) return cached;
  let test: RegExp;
  try {
    test = name === 'Any' ? /[^]/u : /^(C|Cc|Cf|Co|Cs|L|Ll|Lm|Lo|Lt|Lu|M|Mc|Me|Mn|N|Nd|Nl|No|P|Pc|Pd|Pe|Pf|Pi|Po|Ps|S|Sc|Sk|Sm|So|Z|Zl|Zp|Zs)$/.test(name) ? new RegExp(`\\p{${name}}`, 'u') : new RegExp(`\\p{Script=${name}}`, 'u');
  } catch {
    throw new UnsupportedRegexError(`unknown Unicode class \\p{${name}}`);
  }
  const ranges: [number, number][] = [];
  let start = -1;
  for (let cp = 0; cp <= MAX_CODE_POINT + 1; cp++) {
    const inside = cp <= MAX_CODE_POINT && !(cp >= 0xd800 && cp <= 0xdfff && name !== 'Any' && name !== 'Cs') && test.test(String.fromCodePoint(cp));
    if (inside && start < 0) start = cp;
    if (!inside && start >= 0) {
      ranges.push([start, cp - 1]);
      start = -1;
    }
  }
  const set = CodePointSet.of(ranges);
  unicodeClasses.set(name, set);
  return set;
}

const orbits = new Map<number, number[]>();

/** The characters RE2 matches for `codePoint` under the i flag (its simple case folding orbit), asked of RE2 itself. */
function foldOrbit(codePoint: number): number[] {
  const cached = orbits.get(codePoint);
  if (cached) return cached;
  const re = RE2JS.compile(`\\x{${codePoint.toString(16)}}`, RE2JS.CASE_INSENSITIVE);
  const orbit = caseCandidates(codePoint).filter((cp) => cp === codePoint || re.matches(String.fromCodePoint(cp)));
  orbits.set(codePoint, orbit);
  return orbit;
}

/** Adds the case variants RE2 adds to a class under the i flag. */
function foldSet(set: CodePointSet): CodePointSet {
  if (set.size > 0x3000) {
    // Large classes: only cased characters can add anything; look at those that have a variant.
    const extra: number[] = [];
    for (const [lo, hi] of set.ranges) for (let cp = lo; cp <= Math.min(hi, 0x1e943); cp++) if (String.fromCodePoint(cp).toLowerCase() !== String.fromCodePoint(cp).toUpperCase()) extra.push(...foldOrbit(cp));
    return set.union(CodePointSet.chars(...extra));
  }
  return CodePointSet.chars(...set.members().flatMap(foldOrbit));
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

class Re2Parser {
  private pos = 0;

  constructor(private readonly src: string) {}

  parse(flags: Flags): RegexNode {
    const node = this.alternation({ ...flags });
    if (this.pos < this.src.length) throw new UnsupportedRegexError(`unexpected '${this.src[this.pos]}' at offset ${this.pos}`);
    return node;
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  /** `flags` is shared by the branches: a bare (?i) changes it for the rest of the enclosing group. */
  private alternation(flags: Flags): RegexNode {
    const branches: RegexNode[] = [this.concatenation(flags)];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.concatenation(flags));
    }
    return branches.length === 1 ? (branches[0] as RegexNode) : { t: 'alt', items: branches };
  }

  private concatenation(flags: Flags): RegexNode {
    const items: RegexNode[] = [];
    while (this.pos < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      const start = this.pos;
      const atom = this.atom(flags);
      if (atom === undefined) continue;
      items.push(this.quantified(atom, start));
    }
    return items.length === 1 ? (items[0] as RegexNode) : { t: 'cat', items };
  }

  private quantified(atom: RegexNode, start: number): RegexNode {
    let node = atom;
    for (;;) {
      const ch = this.peek();
      const quantifier = this.pos;
      let min: number;
      let max: number;
      if (ch === '*' || ch === '+' || ch === '?') {
        this.pos++;
        [min, max] = ch === '*' ? [0, Infinity] : ch === '+' ? [1, Infinity] : [0, 1];
      } else if (ch === '{') {
        const m = /^\{([0-9]+)(,([0-9]*))?\}/.exec(this.src.slice(this.pos));
        if (!m) return node;
        this.pos += m[0].length;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      } else {
        return node;
      }
      const end = this.pos;
      if (this.peek() === '?') this.pos++;
      if (node.t === 'assert') throw new UnsupportedRegexError('a repeated assertion');
      node = { t: 'rep', item: node, min, max, span: { start, quantifier, end } };
    }
  }

  /** One atom, or undefined for a flag group that only changes flags. */
  private atom(flags: Flags): RegexNode | undefined {
    const ch = this.src[this.pos] as string;
    switch (ch) {
      case '(':
        return this.group(flags);
      case '[':
        return { t: 'set', set: this.charClass(flags) };
      case '.':
        this.pos++;
        return { t: 'set', set: flags.s ? CodePointSet.ANY : NEWLINE.complement() };
      case '^':
        this.pos++;
        return { t: 'assert', kind: flags.m ? 'line-start' : 'text-start' };
      case '$':
        this.pos++;
        return { t: 'assert', kind: flags.m ? 'line-end' : 'text-end' };
      case '\\': {
        const next = this.peek(1);
        const assertion: Record<string, AssertionKind> = { A: 'text-start', z: 'text-end', b: 'word-boundary', B: 'not-word-boundary' };
        if (next !== undefined && assertion[next]) {
          this.pos += 2;
          return { t: 'assert', kind: assertion[next] as AssertionKind };
        }
        return { t: 'set', set: this.fold(this.escape(), flags) };
      }
      default: {
        const cp = this.src.codePointAt(this.pos) as number;
        this.pos += cp > 0xffff ? 2 : 1;
        return { t: 'set', set: this.fold(CodePointSet.chars(cp), flags) };
      }
    }
  }

  private fold(set: CodePointSet, flags: Flags): CodePointSet {
    return flags.i ? foldSet(set) : set;
  }

  private group(flags: Flags): RegexNode | undefined {
    this.pos++;
    let inner = { ...flags };
    if (this.peek() === '?') {
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(this.src.slice(this.pos));
      if (named) {
        this.pos += named[0].length;
      } else {
        const m = /^\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(this.src.slice(this.pos));
        if (!m) throw new UnsupportedRegexError(`unsupported group syntax at offset ${this.pos - 1}`);
        this.pos += m[0].length;
        const set = (target: Flags, letters: string, value: boolean): void => {
          for (const f of letters) if (f !== 'U') target[f as keyof Flags] = value;
        };
        const target = m[3] === ')' ? flags : inner;
        set(target, m[1] ?? '', true);
        set(target, m[2] ?? '', false);
        if (m[3] === ')') return undefined;
        inner = target;
      }
    }
    const node = this.alternation(inner);
    if (this.peek() !== ')') throw new UnsupportedRegexError('missing )');
    this.pos++;
    return node;
  }

  private hex(digits: string): number {
    const cp = parseInt(digits, 16);
    if (!Number.isFinite(cp) || cp > MAX_CODE_POINT) throw new UnsupportedRegexError(`bad escape \\x${digits}`);
    return cp;
  }

  /** An escape outside or inside a class, as a set; the position is after the backslash's sequence. */
  private escape(): CodePointSet {
    const next = this.peek(1);
    if (next === undefined) throw new UnsupportedRegexError('trailing backslash');
    this.pos += 2;
    const simple: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (simple[next] !== undefined) return CodePointSet.chars(simple[next] as number);
    switch (next) {
      case 'd':
        return DIGITS;
      case 'D':
        return DIGITS.complement();
      case 's':
        return SPACES;
      case 'S':
        return SPACES.complement();
      case 'w':
        return WORD_CHARS;
      case 'W':
        return WORD_CHARS.complement();
      case 'x': {
        if (this.peek() === '{') {
          const end = this.src.indexOf('}', this.pos);
          if (end < 0) throw new UnsupportedRegexError('unterminated \\x{');
          const cp = this.hex(this.src.slice(this.pos + 1, end));
          this.pos = end + 1;
          return CodePointSet.chars(cp);
        }
        const cp = this.hex(this.src.slice(this.pos, this.pos + 2));
        this.pos += 2;
        return CodePointSet.chars(cp);
      }
      case 'p':
      case 'P': {
        let name: string;
        if (this.peek() === '{') {
          const end = this.src.indexOf('}', this.pos);
          name = this.src.slice(this.pos + 1, end);
          this.pos = end + 1;
        } else {
          name = this.src[this.pos] as string;
          this.pos++;
        }
        let negate = next === 'P';
        if (name.startsWith('^')) {
          negate = !negate;
          name = name.slice(1);
        }
        const set = unicodeClass(name);
        return negate ? set.complement() : set;
      }
      default:
        if (/[0-7]/.test(next)) {
          if (next !== '0' && !/[0-7]/.test(this.peek() ?? '')) throw new UnsupportedRegexError(`backreference \\${next}`);
          const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos)) as RegExpExecArray;
          this.pos += m[0].length;
          return CodePointSet.chars(parseInt(next + m[0], 8));
        }
        if (/[A-Za-z0-9]/.test(next)) throw new UnsupportedRegexError(`unsupported escape \\${next}`);
        return CodePointSet.chars(next.codePointAt(0) as number);
    }
  }

  private classAtom(): CodePointSet {
    if (this.peek() === '\\') return this.escape();
    if (this.src.startsWith('[:', this.pos)) {
      const m = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
      const set = m ? POSIX[m[2] as string] : undefined;
      if (!m || !set) throw new UnsupportedRegexError(`unsupported class syntax at offset ${this.pos}`);
      this.pos += m[0].length;
      return m[1] === '^' ? set.complement() : set;
    }
    const cp = this.src.codePointAt(this.pos) as number;
    this.pos += cp > 0xffff ? 2 : 1;
    return CodePointSet.chars(cp);
  }

  private charClass(flags: Flags): CodePointSet {
    this.pos++;
    const negate = this.peek() === '^';
    if (negate) this.pos++;
    let set = CodePointSet.EMPTY;
    let first = true;
    while (this.pos < this.src.length && (this.peek() !== ']' || first)) {
      first = false;
      const start = this.pos;
      const low = this.classAtom();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined && low.size === 1 && this.src[start] !== '[') {
        this.pos++;
        const high = this.classAtom();
        if (high.size !== 1) throw new UnsupportedRegexError('bad class range');
        set = set.union(CodePointSet.of([[low.ranges[0]?.[0] as number, high.ranges[0]?.[0] as number]]));
      } else {
        set = set.union(low);
      }
    }
    if (this.peek() !== ']') throw new UnsupportedRegexError('missing ]');
    this.pos++;
    const folded = this.fold(set, flags);
    return negate ? folded.complement() : folded;
  }
}

/** The pattern as a tree; throws UnsupportedRegexError for syntax it does not cover. */
export function parseRe2(pattern: string, flags: RegexFlags): RegexNode {
  return new Re2Parser(pattern).parse({ i: flags.caseInsensitive, m: flags.multiLine, s: flags.dotAll });
}
