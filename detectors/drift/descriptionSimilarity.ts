/**
 * How alike two tool definitions read, for rename evasion: a removed tool and a new one whose descriptions say
 * nearly the same thing. Word overlap catches reordered or lightly edited prose; edit distance catches small edits
 * of short descriptions. Both look only at the first few thousand characters.
 */
import { distance } from 'fastest-levenshtein';

const MAX_COMPARED = 4000;
/** Below this many words, containment says little (one shared word would be 100%). */
const MIN_CONTAINMENT_WORDS = 4;

function normalized(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim().slice(0, MAX_COMPARED);
}

function words(text: string): Set<string> {
  return new Set(text.split(/[^\p{L}\p{N}_]+/u).filter((w) => w.length > 1));
}

/**
 * Similarity in [0, 1]: the largest of word-set Jaccard, containment (shared words over the smaller set, when it
 * has a few words) and 1 − normalized edit distance. Empty texts compare as 0.
 */
export function descriptionSimilarity(a: string, b: string): number {
  const x = normalized(a);
  const y = normalized(b);
  if (x === '' || y === '') return 0;
  const wx = words(x);
  const wy = words(y);
  let shared = 0;
  for (const w of wx) if (wy.has(w)) shared += 1;
  const union = wx.size + wy.size - shared;
  const jaccard = union === 0 ? 0 : shared / union;
  const smaller = Math.min(wx.size, wy.size);
  const containment = smaller >= MIN_CONTAINMENT_WORDS ? shared / smaller : 0;
  const edit = 1 - distance(x, y) / Math.max(x.length, y.length);
  return Math.max(jaccard, containment, edit);
}
