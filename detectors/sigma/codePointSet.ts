/**
 * Sets of Unicode code points as sorted, disjoint inclusive ranges: the character classes of a regular expression
 * once escapes, negation and case folding are resolved, so a query language without those features (Lucene's
 * RegExp) can be given the exact set.
 */

export const MAX_CODE_POINT = 0x10ffff;

export type Range = readonly [number, number];

export class CodePointSet {
  private constructor(readonly ranges: readonly Range[]) {}

  static of(ranges: readonly Range[]): CodePointSet {
    const sorted = [...ranges].filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [lo, hi] of sorted) {
      const last = merged[merged.length - 1];
      if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
      else merged.push([lo, hi]);
    }
    return new CodePointSet(merged);
  }

  static chars(...codePoints: number[]): CodePointSet {
    return CodePointSet.of(codePoints.map((c) => [c, c]));
  }

  static readonly EMPTY = new CodePointSet([]);
  static readonly ANY = new CodePointSet([[0, MAX_CODE_POINT]]);

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  get size(): number {
    return this.ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
  }

  has(codePoint: number): boolean {
    let low = 0;
    let high = this.ranges.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const [lo, hi] = this.ranges[mid] as Range;
      if (codePoint < lo) high = mid - 1;
      else if (codePoint > hi) low = mid + 1;
      else return true;
    }
    return false;
  }

  union(other: CodePointSet): CodePointSet {
    return CodePointSet.of([...this.ranges, ...other.ranges]);
  }

  complement(): CodePointSet {
    const out: Range[] = [];
    let next = 0;
    for (const [lo, hi] of this.ranges) {
      if (lo > next) out.push([next, lo - 1]);
      next = hi + 1;
    }
    if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
    return new CodePointSet(out);
  }

  intersect(other: CodePointSet): CodePointSet {
    return this.complement().union(other.complement()).complement();
  }

  /** Every member, for small sets (case folding). */
  members(): number[] {
    return this.ranges.flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i));
  }
}

/** RE2's ASCII word characters, which \b, \w and \W use. */
export const WORD_CHARS = CodePointSet.of([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);

/** Code points grouped by their lower-case and upper-case forms, built once on first use. */
let caseGroups: { lower: Map<string, number[]>; upper: Map<string, number[]> } | undefined;

function groups(): NonNullable<typeof caseGroups> {
  if (caseGroups) return caseGroups;
  const lower = new Map<string, number[]>();
  const upper = new Map<string, number[]>();
  const add = (map: Map<string, number[]>, key: string, cp: number): void => {
    const list = map.get(key);
    if (list) list.push(cp);
    else map.set(key, [cp]);
  };
  for (let cp = 0; cp <= MAX_CODE_POINT; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    if (lo !== ch || up !== ch) {
      add(lower, lo, cp);
      add(upper, up, cp);
    }
  }
  caseGroups = { lower, upper };
  return caseGroups;
}

/**
 * The characters a case-insensitive Sigma comparison treats as `codePoint`: those with the same JavaScript
 * lower-case form (the engine lower-cases both sides, detectionItem.ts).
 */
export function sameLowerCase(codePoint: number): CodePointSet {
  const key = String.fromCodePoint(codePoint).toLowerCase();
  return CodePointSet.chars(codePoint, ...(groups().lower.get(key) ?? []));
}

/**
 * Candidates for the characters RE2's case folding (Unicode simple case folding orbits) matches for `codePoint`:
 * everything sharing its lower- or upper-case form; the caller keeps those RE2 itself accepts.
 */
export function caseCandidates(codePoint: number): number[] {
  const ch = String.fromCodePoint(codePoint);
  const { lower, upper } = groups();
  const out = new Set<number>([codePoint]);
  for (const key of [ch.toLowerCase(), ch.toUpperCase()]) {
    for (const cp of [...(lower.get(key) ?? []), ...(upper.get(key) ?? [])]) out.add(cp);
    if ([...key].length === 1) out.add(key.codePointAt(0) as number);
  }
  return [...out];
}
