/**
 * Text as the model reads it, for detection: an attacker who writes "ign\u200bore", "іgnore" (Cyrillic і),
 * "ｉｇｎｏｒｅ", a Unicode Tag run, "%69gnore" or a base64 blob defeats every word-level detector that looks
 * at the raw string, yet the model reads the instruction. normalizeForDetection undoes those encodings and
 * reports each one it undid, since an encoding a legitimate description has no reason to use is itself a
 * signal. Raw text stays matchable elsewhere (hidden-content rules need the raw characters); this is the text
 * the word-level detectors see.
 *
 * Steps, in order: Unicode Tag runs decoded to the ASCII they mirror (subdivision flags dropped); zero-width
 * and bidi controls removed; NFKC (full-width, ligatures, mathematical letters); homoglyphs folded inside
 * words written mostly in Latin; percent-encoded and base64 runs replaced by what they decode to when that is
 * printable text (decoded text goes through the same steps, to a small depth, so encodings cannot nest).
 */
import unhomoglyph from 'unhomoglyph';
import { tagRunsOf } from '../sigma/hiddenTagText.js';

export type NormalizationKind = 'unicode_tags' | 'zero_width' | 'bidi_control' | 'nfkc' | 'homoglyph' | 'url_encoded' | 'base64';

/** One kind of encoding undone in a text. */
export interface NormalizationFinding {
  kind: NormalizationKind;
  /** How many runs or characters of this kind were undone. */
  count: number;
  /** What the first one read as after undoing it (bounded), for an alert to show. */
  evidence: string;
}

export interface NormalizedText {
  text: string;
  findings: NormalizationFinding[];
}

const EVIDENCE_CHARS = 120;
/** Decoded text is normalized again; beyond this depth it is left as decoded. */
const MAX_DECODE_DEPTH = 3;
/** Zero-width characters (incl. soft hyphen, word joiner, BOM, Mongolian vowel separator, invisible operators). */
const ZERO_WIDTH = /[\u00ad\u034f\u180e\u200b-\u200d\u2060-\u2064\ufeff]/g;
/** Bidirectional controls: embeddings, overrides, isolates and marks. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NON_ASCII = /[^\u0000-\u007f]/;
/** A word holding at least one non-ASCII letter. */
const WORD_WITH_NON_ASCII = /[\p{L}\p{M}]*[^\u0000-\u007f\s][\p{L}\p{M}]*/gu;
/** Runs of at least three percent escapes, with printable ASCII between them. */
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2}[\w.~-]{0,12}){3,}/g;
/** Base64 (standard or URL-safe) long enough to hold a phrase, not part of a longer word. */
const BASE64_RUN = /(?<![\w+/-])(?:[A-Za-z0-9+/_-]{4}){5,}(?:[A-Za-z0-9+/_-]{2}==|[A-Za-z0-9+/_-]{3}=)?(?![\w+/=-])/g;

const clip = (text: string): string => (text.length > EVIDENCE_CHARS ? `${text.slice(0, EVIDENCE_CHARS)}…` : text);

class Findings {
  readonly list: NormalizationFinding[] = [];
  add(kind: NormalizationKind, count: number, evidence: string): void {
    if (count === 0) return;
    const found = this.list.find((f) => f.kind === kind);
    if (found) found.count += count;
    else this.list.push({ kind, count, evidence: clip(evidence) });
  }
}

function decodeTags(text: string, findings: Findings): string {
  const runs = tagRunsOf(text);
  if (runs.length === 0) return text;
  let out = '';
  let at = 0;
  let hidden = 0;
  for (const run of runs) {
    out += text.slice(at, run.start);
    if (!run.flag) {
      // Spaces around the decoded run so it reads as its own words, not glued to the visible ones.
      out += ` ${run.decoded} `;
      hidden++;
    }
    at = run.end;
  }
  const first = runs.find((r) => !r.flag);
  if (first) findings.add('unicode_tags', hidden, first.decoded);
  return out + text.slice(at);
}

function removeControls(text: string, pattern: RegExp, kind: NormalizationKind, findings: Findings): string {
  let count = 0;
  let first = -1;
  const out = text.replace(pattern, (_c, offset: number) => {
    if (count++ === 0) first = offset;
    return '';
  });
  if (count > 0) findings.add(kind, count, `U+${text.codePointAt(first)!.toString(16).toUpperCase().padStart(4, '0')} in "${text.slice(Math.max(0, first - 20), first + 20)}"`);
  return out;
}

/** ASCII letters by their confusable skeleton (unhomoglyph gives I and l one skeleton, so one skeleton may stand for two letters). */
const LETTERS_BY_SKELETON = new Map<string, string[]>();
for (const letter of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') {
  const skeleton = unhomoglyph(letter);
  LETTERS_BY_SKELETON.set(skeleton, [...(LETTERS_BY_SKELETON.get(skeleton) ?? []), letter]);
}
const foldCache = new Map<string, string | null>();

/** The ASCII letter a confusable character stands for, in the case it shows, if there is one. */
function asciiLookalike(char: string): string | null {
  let folded = foldCache.get(char);
  if (folded === undefined) {
    const letters = LETTERS_BY_SKELETON.get(unhomoglyph(char)) ?? [];
    const upper = char.toUpperCase() === char && char.toLowerCase() !== char;
    folded = letters.find((l) => (l === l.toUpperCase()) === upper) ?? letters[0] ?? null;
    foldCache.set(char, folded);
  }
  return folded;
}

/**
 * Folds lookalikes in words that mix Latin with another script ("pаssword" with a Cyrillic а), and in words of
 * lookalikes only when the text around is Latin: a sentence in Russian or Greek stays as written.
 */
function foldHomoglyphs(text: string, findings: Findings): string {
  if (!NON_ASCII.test(text)) return text;
  const latin = (text.match(/[A-Za-z]/g) ?? []).length;
  const letters = (text.match(/\p{L}/gu) ?? []).length;
  const latinContext = letters > 0 && latin / letters >= 0.8;
  let count = 0;
  let first = '';
  const out = text.replace(WORD_WITH_NON_ASCII, (word) => {
    const hasAscii = /[A-Za-z]/.test(word);
    if (!hasAscii && !latinContext) return word;
    let folded = '';
    for (const char of word) {
      if (char.charCodeAt(0) < 0x80) {
        folded += char;
        continue;
      }
      const ascii = asciiLookalike(char);
      // A letter of another script with no lookalike (é, ß, 中) means the word is really written that way.
      if (ascii === null) return word;
      folded += ascii;
    }
    if (count++ === 0) first = `${word} → ${folded}`;
    return folded;
  });
  findings.add('homoglyph', count, first);
  return out;
}

const asciiAlnum = (text: string): number => (text.match(/[A-Za-z0-9]/g) ?? []).length;

/** Whether decoded text reads as text: valid, printable, a third letters, and (for base64, whose alphabet any identifier matches) more than one word. */
function isPrintableText(text: string, words: 'one' | 'several'): boolean {
  if (text.length < 3 || text.includes('\ufffd')) return false;
  let printable = 0;
  let letters = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code === 9 || code === 10 || code === 13 || (code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code < 0xa0))) printable++;
    if (/\p{L}/u.test(char)) letters++;
  }
  return printable === [...text].length && letters >= text.length / 3 && (words === 'one' || /\s/.test(text.trim()));
}

function decodePercent(text: string, findings: Findings, depth: number): string {
  if (!text.includes('%')) return text;
  return text.replace(PERCENT_RUN, (run) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(run);
    } catch {
      return run;
    }
    if (!isPrintableText(decoded, 'one')) return run;
    const inner = normalizeDepth(decoded, findings, depth + 1);
    // Links escape spaces and punctuation as a matter of course; escaping letters and digits only hides words.
    if (/%(?:3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa])/.test(run)) findings.add('url_encoded', 1, inner);
    return inner;
  });
}

/** The fewest alphabet characters in a row a BASE64_RUN match holds (five groups of four). */
const BASE64_MIN_RUN = 20;

const isBase64Char = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 95 || c === 45;

/**
 * Whether `text` holds BASE64_MIN_RUN base64 alphabet characters in a row, as every BASE64_RUN match does: one pass
 * over the text, where the run pattern (with its look-behind) is tried at every position of text that has none.
 */
function mayHoldBase64(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    if (!isBase64Char(text.charCodeAt(i))) run = 0;
    else if (++run >= BASE64_MIN_RUN) return true;
  }
  return false;
}

function decodeBase64(text: string, findings: Findings, depth: number): string {
  if (!mayHoldBase64(text)) return text;
  return text.replace(BASE64_RUN, (run) => {
    // Identifiers, hashes and hex strings match the alphabet too; text encodes to a mix of cases and digits.
    if (!/[a-z]/.test(run) || !/[A-Z]/.test(run) || /^[0-9a-fA-F]+$/.test(run)) return run;
    const decoded = Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    if (!isPrintableText(decoded, 'several')) return run;
    const inner = normalizeDepth(decoded, findings, depth + 1);
    findings.add('base64', 1, inner);
    return ` ${inner} `;
  });
}

function normalizeDepth(raw: string, findings: Findings, depth: number): string {
  let text = raw;
  if (NON_ASCII.test(text)) {
    text = decodeTags(text, findings);
    text = removeControls(text, ZERO_WIDTH, 'zero_width', findings);
    text = removeControls(text, BIDI, 'bidi_control', findings);
    const nfkc = text.normalize('NFKC');
    if (nfkc !== text) {
      // Only letters and digits made from compatibility forms (ｉｇｎｏｒｅ, 𝐩𝐫𝐞𝐯) count as a finding: composed
      // accents and full-width CJK punctuation are ordinary typography.
      if (asciiAlnum(nfkc) > asciiAlnum(text)) findings.add('nfkc', 1, nfkc.slice(0, EVIDENCE_CHARS));
      text = nfkc;
    }
    text = foldHomoglyphs(text, findings);
  }
  if (depth >= MAX_DECODE_DEPTH) return text;
  text = decodePercent(text, findings, depth);
  return decodeBase64(text, findings, depth);
}

/** The text a model reads, with every hiding encoding undone, and what was undone. */
export function normalizeForDetection(raw: string): NormalizedText {
  const findings = new Findings();
  const text = normalizeDepth(raw, findings, 0);
  return { text, findings: findings.list };
}
