/**
 * Work on one event that the rule engine and several detectors all need (issue 13): the texts an event carries, the
 * learned tier's verdicts, text as the model reads it. Each used to be computed by every reader of the event (the
 * Sigma derived fields, the structural tier, the learned tier, the cross-server detector), and normalizing the same
 * tool description again in each of thousands of sessions was a large share of the full stack.
 *
 * DetectorRuntime makes one SharedEventWork per event and hands it to the rule engine (RuleEvaluator.evaluate) and
 * to every detector (DetectorContext.shared), so a computation keyed here runs once per event, whoever asks first.
 * normalized() also remembers its answers across events (a pure function of the text), in a bounded cache.
 *
 * A value obtained here is shared: readers must not change it.
 */
import { BoundedMemo } from './boundedMemo.js';
import { normalizeForDetection, type NormalizedText } from './content/textNormalization.js';

/** Per-event work shared by the rule engine and the detectors. */
export interface SharedEventWork {
  /**
   * The value of `compute` for this event: computed at the first ask, then shared by every later one. `key` names
   * the computation (a module-level function or constant object, never a fresh object per call).
   */
  once<T>(key: object, compute: () => T): T;
  /** normalizeForDetection(raw) (content/textNormalization.ts), computed once per distinct text (bounded cache). */
  normalized(raw: string): NormalizedText;
}

/**
 * Texts longer than this are normalized once per event but not remembered across events: the cross-event cache is
 * for the short texts that repeat (descriptions, instructions, small results), and a long one would crowd them out.
 */
const MAX_REMEMBERED_CHARS = 16_384;
/**
 * Characters of text (keys plus normalized values) one generation of the cross-event cache holds (BoundedMemo keeps
 * two), so the cache holds at most 2 × 4 Mi characters, ~16 MiB of UTF-16 plus per-entry overhead, whatever the
 * traffic.
 */
const GENERATION_CHARS = 4 * 1024 * 1024;

/** Shared answers must stay as computed: a reader that changes one would change it for every later event. */
function freeze(value: NormalizedText): NormalizedText {
  for (const finding of value.findings) Object.freeze(finding);
  Object.freeze(value.findings);
  return Object.freeze(value);
}

/** normalizeForDetection across events, charged by the characters of the text and of its normalized form. */
const normalizations = new BoundedMemo<NormalizedText>(GENERATION_CHARS, (raw, value) => raw.length + (value.text === raw ? 0 : value.text.length));
const normalizeShared = (raw: string): NormalizedText => freeze(normalizeForDetection(raw));

/** The shared work of one event; DetectorRuntime makes one per event (tests and tools may make their own). */
export class EventWork implements SharedEventWork {
  private readonly results = new Map<object, unknown>();
  /** Long texts, not in the cross-event cache, normalized once for this event. */
  private longTexts: Map<string, NormalizedText> | undefined;

  once<T>(key: object, compute: () => T): T {
    if (this.results.has(key)) return this.results.get(key) as T;
    const value = compute();
    this.results.set(key, value);
    return value;
  }

  normalized(raw: string): NormalizedText {
    if (raw.length <= MAX_REMEMBERED_CHARS) return normalizations.get(raw, normalizeShared);
    this.longTexts ??= new Map();
    let found = this.longTexts.get(raw);
    if (found === undefined) {
      found = normalizeForDetection(raw);
      this.longTexts.set(raw, found);
    }
    return found;
  }
}
