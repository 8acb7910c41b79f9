/**
 * Compiles a Sigma string (literals, `*`, `?`) to a plain string test. Common shapes become a single
 * ===, startsWith, endsWith or includes; the rest is a greedy leftmost segment search, which is exact for
 * patterns whose only unbounded wildcard is `*`. No regular expression is built.
 */
import { ANY_RUN, type SigmaString, type SigmaStringPart } from './sigmaString.js';

export type StringTest = (haystack: string) => boolean;

/** A compiled value: its test, and the needle itself when the test is plain equality (callers group those in a Set). */
export interface CompiledString {
  test: StringTest;
  exact?: string;
}

interface Segment {
  length: number;
  matchAt(haystack: string, position: number): boolean;
  find(haystack: string, from: number): number;
}

function segmentOf(parts: readonly SigmaStringPart[]): Segment {
  if (parts.every((p) => typeof p === 'string')) {
    const literal = parts.join('');
    return { length: literal.length, matchAt: (h, pos) => h.startsWith(literal, pos), find: (h, from) => h.indexOf(literal, from) };
  }
  // `?` matches exactly one UTF-16 unit, so the segment becomes a per-position template (null = any).
  const template: (string | null)[] = [];
  for (const p of parts) {
    if (typeof p === 'string') template.push(...p.split(''));
    else template.push(null);
  }
  const length = template.length;
  const matchAt = (h: string, pos: number): boolean => {
    if (pos + length > h.length) return false;
    for (let i = 0; i < length; i++) {
      const c = template[i];
      if (c !== null && h[pos + i] !== c) return false;
    }
    return true;
  };
  return {
    length,
    matchAt,
    find: (h, from) => {
      for (let pos = from; pos + length <= h.length; pos++) if (matchAt(h, pos)) return pos;
      return -1;
    },
  };
}

function splitOnAnyRun(parts: readonly SigmaStringPart[]): SigmaStringPart[][] {
  const segments: SigmaStringPart[][] = [[]];
  for (const part of parts) {
    if (part === ANY_RUN) segments.push([]);
    else (segments[segments.length - 1] as SigmaStringPart[]).push(part);
  }
  return segments;
}

/** Compiles the value; when `caseSensitive` is false the haystack must already be lower case. */
export function compileWildcard(value: SigmaString, caseSensitive: boolean): CompiledString {
  const parts = caseSensitive ? value.parts : value.parts.map((p) => (typeof p === 'string' ? p.toLowerCase() : p));
  if (parts.length === 0) return { test: (h) => h === '', exact: '' };
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const exact = parts[0];
    return { test: (h) => h === exact, exact };
  }
  const [first, second, third] = parts;
  if (parts.length === 1 && first === ANY_RUN) return { test: () => true };
  if (parts.length === 2 && first === ANY_RUN && typeof second === 'string') return { test: (h) => h.endsWith(second) };
  if (parts.length === 2 && typeof first === 'string' && second === ANY_RUN) return { test: (h) => h.startsWith(first) };
  if (parts.length === 3 && first === ANY_RUN && typeof second === 'string' && third === ANY_RUN) return { test: (h) => h.includes(second) };
  return { test: segmentSearch(parts) };
}

function segmentSearch(parts: readonly SigmaStringPart[]): StringTest {
  const anchoredStart = parts[0] !== ANY_RUN;
  const anchoredEnd = parts[parts.length - 1] !== ANY_RUN;
  const segments = splitOnAnyRun(parts)
    .filter((s) => s.length > 0)
    .map(segmentOf);
  if (segments.length === 1 && anchoredStart && anchoredEnd) {
    const only = segments[0] as Segment;
    return (h) => h.length === only.length && only.matchAt(h, 0);
  }
  const head = anchoredStart ? segments[0] : undefined;
  const tail = anchoredEnd ? segments[segments.length - 1] : undefined;
  const middle = segments.slice(head ? 1 : 0, tail ? segments.length - 1 : segments.length);
  return (h) => {
    let position = 0;
    if (head) {
      if (!head.matchAt(h, 0)) return false;
      position = head.length;
    }
    let limit = h.length;
    if (tail) {
      limit = h.length - tail.length;
      if (limit < position || !tail.matchAt(h, limit)) return false;
    }
    for (const segment of middle) {
      const found = segment.find(h, position);
      if (found < 0 || found + segment.length > limit) return false;
      position = found + segment.length;
    }
    return true;
  };
}
