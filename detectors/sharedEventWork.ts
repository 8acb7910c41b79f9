/**
 * Work on one event that the rule engine and several detectors all need (issue 13): the texts an event carries, the
 * learned tier's verdicts, text as the model reads it. Each used to be computed by every reader of the event (the
 * Sigma derived fields, the structural tier, the learned tier, the cross-server detector), and normalizing the same
 * tool description again in each of thousands of sessions was a large share of the full stack.
 *
 * DetectorRuntime makes one SharedEventWork per event and hands it to the rule engine (RuleEvaluator.evaluate) and
 * to every detector (DetectorContext.shared), so a computation keyed here runs once per event, whoever asks first.
 * normalized() also remembers its answers across events (a pure function of the text) in the content tiers' reading
 * cache (content/textReadings.ts), so a description the rules and the content tiers both read is normalized once.
 *
 * A value obtained here is shared: readers must not change it.
 */
import { normalizedText } from './content/textReadings.js';
import type { NormalizedText } from './content/textNormalization.js';

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

/** The shared work of one event; DetectorRuntime makes one per event (tests and tools may make their own). */
export class EventWork implements SharedEventWork {
  private readonly results = new Map<object, unknown>();

  once<T>(key: object, compute: () => T): T {
    if (this.results.has(key)) return this.results.get(key) as T;
    const value = compute();
    this.results.set(key, value);
    return value;
  }

  normalized(raw: string): NormalizedText {
    return normalizedText(raw);
  }
}
