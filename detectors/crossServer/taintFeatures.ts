/**
 * The parts of a text that identify data when it travels: redaction placeholders (an exact secret,
 * hashed), URLs, distinctive tokens (identifiers, keys, paths: letters with digits or separators), and
 * passage fingerprints (hashes of every run of N words, kept as a bottom-k sketch so a long source stays
 * small yet any copied passage of it can still be recognised). Ordinary words are never evidence alone.
 */
import { PLACEHOLDER_PATTERN } from '../../pipeline/redactionPlaceholders.js';

/** What a content item keeps for taint matching. */
export interface TaintFeatures {
  placeholders: string[];
  urls: string[];
  /** Distinctive tokens, lower case. */
  tokens: string[];
  /** The smallest passage hashes, ascending. */
  shingles: number[];
  /** The largest hash kept when the sketch is full; null when every passage was kept. */
  shingleLimit: number | null;
}

/** How features are extracted. */
export interface TaintSettings {
  maxTokensPerItem: number;
  maxShinglesPerItem: number;
  shingleWords: number;
  minTokenLength: number;
}

/** What a call's text shares with one content item. */
export interface SharedTaint {
  placeholders: string[];
  urls: string[];
  tokens: string[];
  /** Passages of the call also in the content's sketch. */
  sharedShingles: number;
  /** Passages of the call the sketch could hold (hash within its limit). */
  comparableShingles: number;
  /** sharedShingles / comparableShingles: the share of the call that is copied. */
  containment: number;
}

const PLACEHOLDERS = new RegExp(PLACEHOLDER_PATTERN.source, 'g');
const URLS = /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s"'<>`]+/gi;
const TOKENS = /[\p{L}\p{N}][\p{L}\p{N}._\-/@:+=]*[\p{L}\p{N}]/gu;
const WORDS = /[\p{L}\p{N}]+/gu;
const HAS_LETTER = /\p{L}/u;
const HAS_DIGIT = /\p{N}/u;
const STRONG_SEPARATOR = /[._/@:+=]/;
/** Hyphenated English (follow-up, end-to-end) is common; a hyphenated token must be this long to count. */
const MIN_HYPHENATED_LENGTH = 12;

/** FNV-1a, 32 bits: a fast, stable hash for passage fingerprints (not a security boundary). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A URL compared as an identity: lower-case scheme and host, no trailing slash or sentence punctuation. */
function normalizedUrl(raw: string): string | undefined {
  const parsed = URL.parse(raw.replace(/[).,;:!?\]]+$/, ''));
  if (!parsed) return undefined;
  return `${parsed.protocol}//${parsed.host.toLowerCase()}${parsed.pathname.replace(/\/+$/, '')}${parsed.search}`;
}

/** Whether a token identifies something rather than being a word of prose. */
export function isDistinctiveToken(token: string, minLength: number): boolean {
  if (token.length < minLength || !HAS_LETTER.test(token)) return false;
  if (HAS_DIGIT.test(token) || STRONG_SEPARATOR.test(token)) return true;
  return token.includes('-') && token.length >= MIN_HYPHENATED_LENGTH;
}

function unique<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

/** Every feature of a call's text, uncapped. */
export interface CallFeatures {
  placeholders: string[];
  urls: string[];
  tokens: string[];
  shingles: number[];
}

/** Every feature of `text`, uncapped: placeholders and URLs are cut out before tokens are read. */
export function callFeatures(text: string, settings: Pick<TaintSettings, 'shingleWords' | 'minTokenLength'>): CallFeatures {
  const placeholders = unique(text.match(PLACEHOLDERS) ?? []);
  const withoutPlaceholders = text.replace(PLACEHOLDERS, ' ');
  const urls = unique((withoutPlaceholders.match(URLS) ?? []).map(normalizedUrl).filter((u): u is string => u !== undefined));
  const prose = withoutPlaceholders.replace(URLS, ' ');
  const tokens = unique((prose.match(TOKENS) ?? []).filter((t) => isDistinctiveToken(t, settings.minTokenLength)).map((t) => t.toLowerCase()));
  // URLs count once, as URLs: their words would otherwise also read as a copied passage.
  const words = prose.toLowerCase().match(WORDS) ?? [];
  const shingles: number[] = [];
  for (let i = 0; i + settings.shingleWords <= words.length; i++) shingles.push(fnv1a(words.slice(i, i + settings.shingleWords).join(' ')));
  return { placeholders, urls, tokens, shingles: unique(shingles) };
}

/** The features a content item keeps (capped). */
export function taintFeatures(text: string, settings: TaintSettings): TaintFeatures {
  const raw = callFeatures(text, settings);
  const sorted = raw.shingles.sort((a, b) => a - b);
  const full = sorted.length > settings.maxShinglesPerItem;
  const shingles = full ? sorted.slice(0, settings.maxShinglesPerItem) : sorted;
  return {
    placeholders: raw.placeholders.slice(0, settings.maxTokensPerItem),
    urls: raw.urls.slice(0, settings.maxTokensPerItem),
    tokens: raw.tokens.slice(0, settings.maxTokensPerItem),
    shingles,
    shingleLimit: full ? (shingles.at(-1) ?? null) : null,
  };
}

/** The features a call's text shares with a content item. */
export function sharedTaint(source: TaintFeatures, sink: CallFeatures): SharedTaint {
  const sourceShingles = new Set(source.shingles);
  const limit = source.shingleLimit;
  let comparable = 0;
  let shared = 0;
  for (const hash of sink.shingles) {
    if (limit !== null && hash > limit) continue;
    comparable++;
    if (sourceShingles.has(hash)) shared++;
  }
  const tokens = new Set(source.tokens);
  const urls = new Set(source.urls);
  const placeholders = new Set(source.placeholders);
  return {
    placeholders: sink.placeholders.filter((p) => placeholders.has(p)),
    urls: sink.urls.filter((u) => urls.has(u)),
    tokens: sink.tokens.filter((t) => tokens.has(t)),
    sharedShingles: shared,
    comparableShingles: comparable,
    containment: comparable === 0 ? 0 : shared / comparable,
  };
}
