/**
 * Turns text into the sparse input of the learned tier: hashed word unigrams and bigrams, hashed character 3–5-grams
 * (over the lower-cased, punctuation-collapsed text, so paraphrase and odd spellings still share most grams), and the
 * ids of the tier-1 structural signals. Hashing keeps the model a fixed size with no vocabulary to ship; FNV-1a over
 * UTF-16 code units is computed in place, without building substrings, because scoring speed is a goal.
 *
 * Text features are binary and scaled to unit length (a long text does not score higher for being long); signal
 * features keep a fixed weight (`signalWeight`) so one structural finding counts as much as a text's wording. Which
 * feature families a model uses is part of the model (`FeatureSpec`): character grams memorise a source's spelling
 * habits, so leave-one-source-out measurement decides whether they are on.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Namespaces keep a word, a bigram, a char gram and a signal id with equal spelling in different buckets. */
const NS_WORD = 0x9e3779b1;
const NS_BIGRAM = 0x85ebca77;
const NS_CHAR = 0xc2b2ae3d;
const NS_SIGNAL = 0x27d4eb2f;
const MIN_GRAM = 3;
const MAX_GRAM = 5;

/** One text as the model reads it: bucket indices and their values, sorted by index, no repeats. */
export interface SparseVector {
  indices: Uint32Array;
  values: Float32Array;
}

/** A readable feature (a word, a bigram or a signal id), its bucket, and where in the text it was seen. */
export interface NamedFeature {
  name: string;
  bucket: number;
  start: number;
  end: number;
}

function fnv(seed: number, text: string, start: number, end: number): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

function mix(a: number, b: number): number {
  return Math.imul(a ^ Math.imul(b, 0x5bd1e995) ^ (b >>> 15), FNV_PRIME) >>> 0;
}

/** Letters and digits of any script (and `_`) make words; everything else separates them. */
function isWordChar(code: number): boolean {
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 95 || (code >= 65 && code <= 90);
  return code >= 0xaa && !(code >= 0x2000 && code <= 0x2bff) && !(code >= 0x3000 && code <= 0x303f) && !(code >= 0xd800 && code <= 0xdfff) && code !== 0xfeff;
}

/** The feature families of a model and the weight of a signal feature. */
export interface FeatureSpec {
  charGrams: boolean;
  signalWeight: number;
}

/** What models written before FeatureSpec existed used. */
export const LEGACY_FEATURES: FeatureSpec = { charGrams: true, signalWeight: 1 };

/** The featurizer of one model: the hashing width and the feature families are part of the model. */
export class TextFeaturizer {
  private readonly mask: number;
  private scratch = new Uint32Array(4096);
  private grams = new Uint16Array(1024);

  /** `bits`: log2 of the number of buckets. */
  constructor(
    readonly bits: number,
    readonly spec: FeatureSpec = LEGACY_FEATURES,
  ) {
    this.mask = (1 << bits) - 1;
  }

  /** The sparse vector of `text` (already normalized and lower-cased) with the structural signal ids. */
  vector(text: string, signalIds: readonly string[]): SparseVector {
    const length = text.length;
    // Words, and the characters grams run over (words joined by one space, a space at each end), in one pass.
    if (this.grams.length < 2 * length + 2) this.grams = new Uint16Array(2 * length + 2);
    const grams = this.grams;
    if (this.scratch.length < 8 * length + 16 + signalIds.length) this.scratch = new Uint32Array(8 * length + 16 + signalIds.length);
    const out = this.scratch;
    const mask = this.mask;
    let n = 0;
    let g = 0;
    grams[g++] = 32;
    let previousWord = 0;
    let hasPrevious = false;
    let i = 0;
    while (i < length) {
      while (i < length && !isWordChar(text.charCodeAt(i))) i++;
      if (i >= length) break;
      let h = (FNV_OFFSET ^ NS_WORD) >>> 0;
      while (i < length) {
        const c = text.charCodeAt(i);
        if (!isWordChar(c)) break;
        h = Math.imul(h ^ c, FNV_PRIME);
        grams[g++] = c;
        i++;
      }
      const word = h >>> 0;
      out[n++] = word & mask;
      if (hasPrevious) out[n++] = mix(previousWord ^ NS_BIGRAM, word) & mask;
      previousWord = word;
      hasPrevious = true;
      grams[g++] = 32;
    }
    // Grams of 3, 4 and 5 characters from each position share one running hash.
    for (let s = 0; this.spec.charGrams && s + MIN_GRAM <= g; s++) {
      let h = (FNV_OFFSET ^ NS_CHAR) >>> 0;
      const last = Math.min(g, s + MAX_GRAM);
      for (let k = s; k < last; k++) {
        h = Math.imul(h ^ (grams[k] as number), FNV_PRIME);
        if (k - s + 1 >= MIN_GRAM) out[n++] = (h >>> 0) & mask;
      }
    }
    const textCount = n;
    for (const id of signalIds) out[n++] = fnv(NS_SIGNAL, id, 0, id.length) & mask;
    return this.finish(n, textCount);
  }

  /** Sorts and de-duplicates the scratch buckets; text buckets get 1/sqrt(count), signal buckets `signalWeight`. */
  private finish(n: number, textCount: number): SparseVector {
    const textPart = this.scratch.subarray(0, textCount).sort();
    const signalPart = this.scratch.subarray(textCount, n).sort();
    const textUnique = uniqueSorted(textPart);
    const signalUnique = uniqueSorted(signalPart);
    const scale = textUnique.length === 0 ? 0 : 1 / Math.sqrt(textUnique.length);
    const merged = new Map<number, number>();
    const indices = new Uint32Array(textUnique.length + signalUnique.length);
    const values = new Float32Array(indices.length);
    if (signalUnique.length === 0) {
      indices.set(textUnique);
      values.fill(scale);
      return { indices, values };
    }
    for (const b of textUnique) merged.set(b, scale);
    for (const b of signalUnique) merged.set(b, (merged.get(b) ?? 0) + this.spec.signalWeight);
    const keys = [...merged.keys()].sort((a, b) => a - b);
    const out = { indices: new Uint32Array(keys), values: new Float32Array(keys.length) };
    keys.forEach((k, j) => {
      out.values[j] = merged.get(k) as number;
    });
    return out;
  }

  /**
   * The readable features of `text[from, to)` (words, bigrams, signal ids) with their buckets and positions in `text`,
   * for explanations. Only features whose bucket `keep` accepts are named (an explanation shows the few with positive
   * weight; naming every word and bigram cost more than the rest of explaining).
   */
  namedFeatures(text: string, signals: readonly { id: string; start: number; end: number }[], keep: (bucket: number) => boolean, from = 0, to = text.length): NamedFeature[] {
    const out: NamedFeature[] = [];
    let previousHash = 0;
    let previousStart = -1;
    let previousEnd = 0;
    let i = from;
    while (i < to) {
      while (i < to && !isWordChar(text.charCodeAt(i))) i++;
      if (i >= to) break;
      const start = i;
      while (i < to && isWordChar(text.charCodeAt(i))) i++;
      const hash = fnv(NS_WORD, text, start, i);
      const bucket = hash & this.mask;
      if (keep(bucket)) out.push({ name: text.slice(start, i), bucket, start, end: i });
      if (previousStart >= 0) {
        const pair = mix(previousHash ^ NS_BIGRAM, hash) & this.mask;
        if (keep(pair)) out.push({ name: `${text.slice(previousStart, previousEnd)} ${text.slice(start, i)}`, bucket: pair, start: previousStart, end: i });
      }
      previousHash = hash;
      previousStart = start;
      previousEnd = i;
    }
    for (const s of signals) {
      const bucket = fnv(NS_SIGNAL, s.id, 0, s.id.length) & this.mask;
      if (keep(bucket)) out.push({ name: `signal:${s.id}`, bucket, start: s.start, end: s.end });
    }
    return out;
  }
}

function uniqueSorted(sorted: Uint32Array): Uint32Array {
  if (sorted.length === 0) return sorted;
  let w = 1;
  for (let r = 1; r < sorted.length; r++) if (sorted[r] !== sorted[w - 1]) sorted[w++] = sorted[r] as number;
  return sorted.slice(0, w);
}
