/**
 * The learned tier's model: two binary heads (documentation text: tool, prompt and resource descriptions, schema
 * property descriptions, server instructions; returned content: tool results, resource contents, prompt and sampling
 * messages) and a softmax class head that names the attack. Text is normalized (textNormalization.ts) and the tier-1
 * structural signals are computed before featurizing, so encodings do not hide words and the structural findings
 * are inputs. Content longer than a window is scored window by window and the highest window counts: an injected
 * paragraph in a long page should not be diluted by the page.
 *
 * A verdict (and its explanation) is kept beside the text's reading (../textReadings.ts), which tier 1 shares: a
 * tools/list repeated across sessions costs one normalization, one tier-1 pass and one scoring per distinct text.
 */
import type { NormalizationFinding } from '../textNormalization.js';
import type { StructuralSignal } from '../structuralSignals.js';
import { cachedReading, readingSignals, readText, type TextReading } from '../textReadings.js';
import { bestClass, quantizedHead, quantizedScore, topContributions, type Contribution, type LinearHead, type QuantizedHead } from './linearHead.js';
import { LEGACY_FEATURES, TextFeaturizer, type FeatureSpec, type SparseVector } from './textFeatures.js';

/** Which head reads a text. */
export type ContentHead = 'documentation' | 'content';

/** A binary head with its operating points. */
export interface ScoredHead extends LinearHead {
  /** Alert at or above (chosen for the benign false-positive target, cross-validated). */
  threshold: number;
  /** Informational "for hunting" at or above, below `threshold`. */
  huntThreshold: number;
}

/** How long content is cut into windows. */
export interface WindowSpec {
  words: number;
  stride: number;
}

/** Everything a trained model is. */
export interface ContentModelParts {
  version: string;
  bits: number;
  /** Feature families (absent in artifacts older than this field: LEGACY_FEATURES). */
  features?: FeatureSpec;
  heads: Record<ContentHead, ScoredHead>;
  /** The attack classes each head names, and the softmax heads that name them. */
  classes: Record<ContentHead, readonly string[]>;
  classHeads: Record<ContentHead, readonly LinearHead[]>;
  window: WindowSpec;
  /** What the model was trained on and how its thresholds were chosen (shown in DETECTION.md). */
  training: Record<string, unknown>;
}

/** The model's verdict on one text. */
export interface ContentVerdict {
  head: ContentHead;
  score: number;
  threshold: number;
  huntThreshold: number;
  /** Most likely attack class; named only in the hunting band and above ('none' below). */
  attackClass: string;
  classProbability: number;
  /** The span of normalized text that scored highest (the whole text when it fits one window). */
  window: { start: number; end: number };
}

/** Why a text scored as it did. */
export interface ContentExplanation {
  /** Words and bigrams (and signal ids) with the largest positive weights present in the highest window. */
  features: Contribution[];
  /** The tier-1 structural signals in that window. */
  signals: StructuralSignal[];
  /** Encodings undone before scoring. */
  normalization: NormalizationFinding[];
  /** The highest-scoring window of normalized text (bounded). */
  excerpt: string;
}

/** A text's verdict as the model keeps it beside the text's reading, with its explanation once asked for. */
export interface ScoredText {
  readonly reading: TextReading;
  readonly verdict: ContentVerdict;
  explanation?: ContentExplanation;
}

/** A text ready for featurizing: normalized, lower-cased, with signals and word offsets. */
export interface PreparedText {
  text: string;
  lower: string;
  signals: StructuralSignal[];
  findings: NormalizationFinding[];
}

const EXCERPT_CHARS = 400;
const TOP_FEATURES = 8;

/** A reading of a text as the model takes it: lower-cased, with the tier-1 signals it sees (no fleet context). */
function preparedOf(reading: TextReading): PreparedText {
  return { text: reading.text, lower: reading.text.toLowerCase(), signals: readingSignals(reading), findings: reading.findings };
}

/** Normalizes a text and computes its structural signals, as both training and scoring see it (no cache). */
export function prepareText(raw: string, head: ContentHead): PreparedText {
  return preparedOf(readText(raw, head));
}

/** Ids a model sees for the signals and normalization findings of a window. */
export function signalFeatureIds(prepared: PreparedText, start: number, end: number): string[] {
  const ids = prepared.signals.filter((s) => s.start < end && s.end > start).map((s) => s.id);
  for (const f of prepared.findings) ids.push(`normalized:${f.kind}`);
  return ids;
}

const WORD = /[\p{L}\p{N}_]+/gu;

/** The windows of a text: [start, end) offsets covering `spec.words` words each, `spec.stride` apart; one when short. */
export function textWindows(text: string, spec: WindowSpec): { start: number; end: number }[] {
  // Words are separated by at least one character: a text this short has no more words than a window holds.
  if (text.length <= 2 * spec.words) return [{ start: 0, end: text.length }];
  const starts: number[] = [];
  const ends: number[] = [];
  for (const m of text.matchAll(WORD)) {
    starts.push(m.index);
    ends.push(m.index + m[0].length);
  }
  if (starts.length <= spec.words) return [{ start: 0, end: text.length }];
  const windows: { start: number; end: number }[] = [];
  for (let w = 0; ; w += spec.stride) {
    const last = Math.min(w + spec.words, starts.length) - 1;
    windows.push({ start: starts[w] as number, end: ends[last] as number });
    if (last === starts.length - 1) break;
  }
  return windows;
}

/** A window of text and its feature vector. */
export interface WindowVector {
  window: { start: number; end: number };
  vector: SparseVector;
}

/** The feature vectors of a prepared text: one per window for returned content, one for documentation text. */
export function windowVectors(featurizer: TextFeaturizer, spec: WindowSpec, prepared: PreparedText, head: ContentHead): WindowVector[] {
  const windows = head === 'content' ? textWindows(prepared.lower, spec) : [{ start: 0, end: prepared.lower.length }];
  return windows.map((window) => ({
    window,
    vector: featurizer.vector(windows.length === 1 ? prepared.lower : prepared.lower.slice(window.start, window.end), signalFeatureIds(prepared, window.start, window.end)),
  }));
}

/** Both heads, in a fixed order. */
export const CONTENT_HEADS: readonly ContentHead[] = ['documentation', 'content'];

/** A trained content model, ready to score. */
export class ContentModel {
  readonly featurizer: TextFeaturizer;
  /** Verdicts (and explanations, once asked for) by reading: they go when the reading leaves the reading cache. */
  private readonly verdicts = new WeakMap<TextReading, ScoredText>();
  private readonly scoring: Record<ContentHead, QuantizedHead>;

  constructor(readonly parts: ContentModelParts) {
    this.featurizer = new TextFeaturizer(parts.bits, parts.features ?? LEGACY_FEATURES);
    this.scoring = { documentation: quantizedHead(parts.heads.documentation), content: quantizedHead(parts.heads.content) };
  }

  get version(): string {
    return this.parts.version;
  }

  /** The feature vectors of a prepared text, one per window. */
  vectors(prepared: PreparedText, head: ContentHead): WindowVector[] {
    return windowVectors(this.featurizer, this.parts.window, prepared, head);
  }

  /** The verdict on `raw` read by `head`, from the cache when this text was scored before. */
  score(raw: string, head: ContentHead): ContentVerdict {
    return this.scored(raw, head).verdict;
  }

  /** The verdict on `raw` read by `head` as kept (explainedBy gives its explanation without looking the text up again). */
  scored(raw: string, head: ContentHead): ScoredText {
    const reading = cachedReading(raw, head);
    let known = this.verdicts.get(reading);
    if (known === undefined) {
      known = { reading, verdict: this.scorePrepared(preparedOf(reading), head) };
      this.verdicts.set(reading, known);
    }
    return known;
  }

  /** Why a kept verdict is what it is (made at the first alert on the text, then kept with it). */
  explainedBy(scored: ScoredText): ContentExplanation {
    scored.explanation ??= this.#explain(preparedOf(scored.reading), scored.verdict);
    return scored.explanation;
  }

  /** The verdict on an already prepared text (no cache). */
  scorePrepared(prepared: PreparedText, head: ContentHead): ContentVerdict {
    const scored = this.parts.heads[head];
    let best = { score: -1, window: { start: 0, end: 0 }, vector: undefined as SparseVector | undefined };
    for (const { window, vector } of this.vectors(prepared, head)) {
      const score = quantizedScore(this.scoring[head], vector);
      if (score > best.score) best = { score, window, vector };
    }
    // The class only matters for an alert; naming it for every benign text would double the scoring cost.
    const classHeads = this.parts.classHeads[head];
    const cls = best.vector && classHeads.length > 0 && best.score >= scored.huntThreshold ? bestClass(classHeads, best.vector) : { index: 0, probability: 0 };
    return {
      head,
      score: best.score,
      threshold: scored.threshold,
      huntThreshold: scored.huntThreshold,
      attackClass: best.score >= scored.huntThreshold ? (this.parts.classes[head][cls.index] ?? 'unknown') : 'none',
      classProbability: cls.probability,
      window: best.window,
    };
  }

  /** Why `raw` scored as it did: the features, signals and normalization of its highest window. */
  explain(raw: string, verdict: ContentVerdict): ContentExplanation {
    const reading = cachedReading(raw, verdict.head);
    const known = this.verdicts.get(reading);
    return known?.verdict === verdict ? this.explainedBy(known) : this.#explain(preparedOf(reading), verdict);
  }

  #explain(prepared: PreparedText, verdict: ContentVerdict): ContentExplanation {
    const { start, end } = verdict.window;
    const inWindow = prepared.signals.filter((s) => s.start < end && s.end > start);
    const head = this.parts.heads[verdict.head];
    const mask = head.weights.length - 1;
    // topContributions passes over features without a positive weight: they need no name.
    const mayContribute = (bucket: number): boolean => !((head.weights[bucket & mask] as number) <= 0);
    const named = this.featurizer.namedFeatures(prepared.lower, [], mayContribute, start, end);
    named.push(...this.featurizer.namedFeatures('', [...inWindow, ...prepared.findings.map((f) => ({ id: `normalized:${f.kind}`, start, end }))], mayContribute));
    const excerpt = prepared.text.slice(start, end);
    return {
      features: topContributions(head, named, TOP_FEATURES),
      signals: inWindow,
      normalization: prepared.findings,
      excerpt: excerpt.length > EXCERPT_CHARS ? `${excerpt.slice(0, EXCERPT_CHARS)}…` : excerpt,
    };
  }
}
