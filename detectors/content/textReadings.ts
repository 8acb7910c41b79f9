/**
 * One reading per distinct text, shared by the rule engine and both content tiers: the one cache of what a text alone
 * decides. A fleet repeats itself: the same tool descriptions come back in every session's tools/list, and many tool
 * results are identical, so normalizing a text (for the Sigma derived fields through SharedEventWork.normalized, and
 * for the content tiers) and running the tier-1 detectors' cue matching on it (most of the content tiers' cost) happen
 * once per distinct text; a repeat costs a look-up. What is cached depends on the text alone (normalization, and each
 * detector's context-free reading: structural/structuralDetector.ts); what depends on the fleet (peer claim rates, the
 * tool-name index, the server's own tools) is judged from the reading at every use, so a cached reading can never be
 * stale. The learned tier keeps its verdict beside the reading (ContentModel, keyed by the reading object).
 *
 * Keys are exact: the text itself up to MAX_KEY_CHARS (beyond that V8 hashes a string by its length only), else a
 * SHA-256 of it, in a separate map so a short text can never be taken for a long one's digest. A text's entry holds
 * its normalization and its reading per kind (a documentation text and returned content are read by different cues),
 * each made at its first use. Bounded: at most MAX_READINGS texts and MAX_CACHED_BYTES of estimated heap (sizeOf),
 * least recently used first out. Entries are shared by every reader: none may change one.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { judgeStructure, readStructure, type SignalContext, type StructuralReadings, type StructuralSignal, type TextKind } from './structuralSignals.js';
import { normalizeForDetection, type NormalizationFinding, type NormalizedText } from './textNormalization.js';

/** A text as the content tiers read it: normalized, with what was undone and each tier-1 detector's reading. */
export interface TextReading {
  kind: TextKind;
  /** The normalized text every detector and the learned tier read. */
  text: string;
  findings: NormalizationFinding[];
  structure: StructuralReadings;
  /** The signals with no context (what the learned tier sees), once asked for. */
  plainSignals?: StructuralSignal[];
}

const MAX_READINGS = 50_000;
const MAX_CACHED_BYTES = 128 * 1024 * 1024;
const MAX_KEY_CHARS = 16_384;
/**
 * Bytes a reading is counted as: its key and normalized text at two bytes a character, what the detectors' readings
 * hold per character of documentation text (name-like tokens), each signal (evidence of at most 160 characters, id,
 * offsets) and the rest. On the shared datasets' 10,203 descriptions and results (mean 247 characters) this counts
 * about 1.5× the heap a reading really takes (2.3 KB each, measured with the key's string excluded), so the bound errs
 * on the safe side.
 */
const BYTES_PER_CHAR = 2;
const READING_BYTES_PER_CHAR = 8;
const SIGNAL_BYTES = 320;
const ENTRY_BYTES = 512;

/** A reading of normalized text as `kind` text. */
function readingOf(normalized: NormalizedText, kind: TextKind): TextReading {
  return { kind, text: normalized.text, findings: normalized.findings, structure: readStructure(normalized.text, kind) };
}

/** Reads `raw` without the cache. */
export function readText(raw: string, kind: TextKind): TextReading {
  return readingOf(normalizeForDetection(raw), kind);
}

/** The tier-1 signals of a reading, given what the fleet knows (none: the signals the learned tier sees). */
export function readingSignals(reading: TextReading, context?: SignalContext): StructuralSignal[] {
  if (context !== undefined) return judgeStructure(reading.structure, reading.text, context);
  reading.plainSignals ??= judgeStructure(reading.structure, reading.text, {});
  return reading.plainSignals;
}

/** What the cache keeps of one text. */
interface TextEntry {
  normalized: NormalizedText;
  documentation?: TextReading;
  content?: TextReading;
}

function readingBytes(reading: TextReading | undefined): number {
  if (reading === undefined) return 0;
  return (reading.kind === 'documentation' ? READING_BYTES_PER_CHAR * reading.text.length : 0) + SIGNAL_BYTES * readingSignals(reading).length;
}

function sizeOf(entry: TextEntry, key: string): number {
  const { text, findings } = entry.normalized;
  return BYTES_PER_CHAR * (key.length + text.length) + SIGNAL_BYTES * findings.length + readingBytes(entry.documentation) + readingBytes(entry.content) + ENTRY_BYTES;
}

function cache(): LRUCache<string, TextEntry> {
  return new LRUCache<string, TextEntry>({ max: MAX_READINGS, maxSize: MAX_CACHED_BYTES, sizeCalculation: sizeOf });
}

const byText = cache();
const byDigest = cache();

/** Empties the cache (a benchmark pass that must see every text for the first time). */
export function forgetReadings(): void {
  byText.clear();
  byDigest.clear();
}

/** Shared answers must stay as computed: a reader that changes one would change it for every later reader. */
function frozen(value: NormalizedText): NormalizedText {
  for (const finding of value.findings) Object.freeze(finding);
  Object.freeze(value.findings);
  return Object.freeze(value);
}

/** The cache entry of `raw` (made, with its normalization, at first sight), the map holding it and its key. */
function entryOf(raw: string): { entry: TextEntry; map: LRUCache<string, TextEntry>; key: string } {
  const long = raw.length > MAX_KEY_CHARS;
  const map = long ? byDigest : byText;
  const key = long ? createHash('sha256').update(raw).digest('base64') : raw;
  let entry = map.get(key);
  if (entry === undefined) {
    entry = { normalized: frozen(normalizeForDetection(raw)) };
    map.set(key, entry);
  }
  return { entry, map, key };
}

/** normalizeForDetection(raw), from the cache when this text was seen before (frozen: shared by every reader). */
export function normalizedText(raw: string): NormalizedText {
  return entryOf(raw).entry.normalized;
}

/** The reading of `raw` as `kind` text, from the cache when this text was read before. */
export function cachedReading(raw: string, kind: TextKind): TextReading {
  const { entry, map, key } = entryOf(raw);
  let reading = entry[kind];
  if (reading === undefined) {
    reading = readingOf(entry.normalized, kind);
    entry[kind] = reading;
    // Charged again with the reading it now holds.
    map.set(key, entry);
  }
  return reading;
}
