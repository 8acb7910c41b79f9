/**
 * Whether a server name imitates another: the same Unicode confusable skeleton (Cyrillic "о" for "o", "0" for "O",
 * "rn" for "m", separators ignored), or one edit away from a name of five or more characters. Names that differ only
 * in case are the same name; names that differ only in digits (server-1, server-2) are siblings, not imitations.
 */
import { distance } from 'fastest-levenshtein';
import unhomoglyph from 'unhomoglyph';

export type Lookalike = 'confusable' | 'edit-distance';

const MIN_EDIT_LENGTH = 5;

/** The confusable skeleton of a name (UTS #39 style, via the confusables table), lower case, without separators. */
export function nameSkeleton(name: string): string {
  return unhomoglyph(name.normalize('NFKC')).toLowerCase().replace(/[\s._-]+/g, '');
}

/** How `candidate` imitates `known`, or undefined when it does not (or is the same name). */
export function lookalikeOf(candidate: string, known: string): Lookalike | undefined {
  const a = candidate.toLowerCase();
  const b = known.toLowerCase();
  if (a === b) return undefined;
  if (nameSkeleton(candidate) === nameSkeleton(known)) return 'confusable';
  if (Math.min(a.length, b.length) < MIN_EDIT_LENGTH) return undefined;
  if (a.replace(/\d/g, '') === b.replace(/\d/g, '')) return undefined;
  return distance(a, b) <= 1 ? 'edit-distance' : undefined;
}
