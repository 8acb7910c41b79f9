/**
 * Trains a content model from labelled records: featurizes every record once (normalization and tier-1 signals
 * included), finds the operating thresholds from out-of-fold scores of a grouped k-fold (so a threshold is never
 * chosen on scores of records the model was trained on), then trains the shipped heads on everything and rounds
 * them to int8 as the artifact stores them. The same function trains each leave-one-source-out fold in `tapwire eval`.
 */
import { createHash } from 'node:crypto';
import { ContentModel, prepareText, windowVectors, type ContentHead, type ContentModelParts, type WindowSpec } from '../contentModel.js';
import { headScore, type LinearHead } from '../linearHead.js';
import { roundToArtifact } from '../modelArtifact.js';
import { TextFeaturizer, type SparseVector } from '../textFeatures.js';
import { sourceName, type LabelledRecord } from './labelledRecords.js';
import { balancedWeights, trainBinary, trainSoftmax, type Example, type TrainingOptions } from './logisticTrainer.js';
import { groupFolds } from './recordGroups.js';

export interface TrainSettings {
  /** log2 buckets of the binary heads. */
  bits: number;
  /** log2 buckets of the class head. */
  classBits: number;
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
  window: WindowSpec;
  /** Grouped folds for choosing thresholds. */
  folds: number;
  /** Highest out-of-fold false-positive rate on benign records of a head at its alert threshold. */
  falsePositiveTarget: number;
  /** The same for the informational (hunting) band. */
  huntFalsePositiveTarget: number;
}

export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
  bits: 18,
  classBits: 16,
  epochs: 6,
  learningRate: 0.2,
  l2: 1e-6,
  seed: 20261203,
  window: { words: 120, stride: 60 },
  folds: 5,
  falsePositiveTarget: 0.01,
  huntFalsePositiveTarget: 0.05,
};

/** Windows of one long benign text used as training examples (a long page should not outweigh many short ones). */
const MAX_BENIGN_WINDOWS = 8;

/** The head that reads a record's text; tool arguments (user-style text) count as benign examples for both. */
export function headsOf(record: LabelledRecord): ContentHead[] {
  if (record.field === 'tool_description') return ['documentation'];
  if (record.field === 'tool_result') return ['content'];
  return ['documentation', 'content'];
}

/** A record featurized for one head: the whole-text vector it trains on, and the window vectors it is scored on. */
export interface FeaturizedRecord {
  record: LabelledRecord;
  head: ContentHead;
  whole: SparseVector;
  windows: SparseVector[];
}

/** Featurizes each record for each head that reads it. */
export function featurizeRecords(records: readonly LabelledRecord[], settings: TrainSettings): FeaturizedRecord[] {
  const featurizer = new TextFeaturizer(settings.bits);
  const out: FeaturizedRecord[] = [];
  for (const record of records) {
    for (const head of headsOf(record)) {
      const prepared = prepareText(record.text, head);
      const windows = windowVectors(featurizer, settings.window, prepared, head).map((w) => w.vector);
      const whole = windows.length === 1 ? (windows[0] as SparseVector) : windowVectors(featurizer, settings.window, prepared, 'documentation')[0]?.vector as SparseVector;
      out.push({ record, head, whole, windows });
    }
  }
  return out;
}

/** The highest window score of a featurized record under a head. */
export function windowScore(head: LinearHead, item: FeaturizedRecord): number {
  let best = 0;
  for (const w of item.windows) best = Math.max(best, headScore(head, w));
  return best;
}

/** What training produced besides the model: out-of-fold scores and how thresholds were chosen. */
export interface TrainingReport {
  /** Out-of-fold score per featurized record (same order as `featurized`). */
  outOfFold: number[];
  featurized: FeaturizedRecord[];
  thresholds: Record<ContentHead, { threshold: number; huntThreshold: number; benign: number }>;
}

function trainHeads(items: readonly FeaturizedRecord[], classes: ContentModelParts['classes'], settings: TrainSettings, seedOffset: number): Pick<ContentModelParts, 'classHeads'> & { heads: Record<ContentHead, LinearHead> } {
  const options = (bits: number, salt: number): TrainingOptions => ({ bits, epochs: settings.epochs, learningRate: settings.learningRate, l2: settings.l2, seed: settings.seed + seedOffset * 101 + salt });
  const binary = (head: ContentHead, salt: number): LinearHead => {
    // Benign text is benign in every window, so its windows are examples too (scoring reads windows); where in a
    // long malicious text the attack sits is unknown, so it counts as a whole.
    const inputs = items.filter((i) => i.head === head).flatMap((i) => (i.record.label === 'malicious' ? [{ x: i.whole, y: 1 }] : i.windows.slice(0, MAX_BENIGN_WINDOWS).map((x) => ({ x, y: 0 }))));
    const weights = balancedWeights(
      inputs.map((e) => e.y),
      2,
    );
    const trained = trainBinary(
      inputs.map((e, k) => ({ ...e, weight: weights[k] as number })),
      options(settings.bits, salt),
    );
    roundToArtifact(trained.weights);
    return trained;
  };
  const softmax = (head: ContentHead, salt: number): LinearHead[] => {
    const names = classes[head];
    const malicious = items.filter((i) => i.head === head && i.record.label === 'malicious');
    const labels = malicious.map((i) => names.indexOf(i.record.attack));
    const weights = balancedWeights(labels, names.length);
    const examples: Example[] = malicious.map((i, k) => ({ x: i.whole, y: labels[k] as number, weight: weights[k] as number }));
    const heads = names.length < 2 ? names.map(() => ({ weights: new Float32Array(1 << settings.classBits), bias: 0 })) : trainSoftmax(examples, names.length, options(settings.classBits, salt));
    for (const h of heads) roundToArtifact(h.weights);
    return heads;
  };
  return {
    heads: { documentation: binary('documentation', 1), content: binary('content', 2) },
    classHeads: { documentation: softmax('documentation', 3), content: softmax('content', 4) },
  };
}

/** The score threshold above which at most `target` of `benignScores` lie (midway between neighbours). */
export function thresholdFor(benignScores: readonly number[], target: number): number {
  const sorted = [...benignScores].sort((a, b) => b - a);
  const allowed = Math.floor(target * sorted.length);
  if (sorted.length === 0) return 0.5;
  const at = sorted[allowed] ?? 0;
  const above = allowed > 0 ? (sorted[allowed - 1] as number) : 1;
  return Math.min(0.999, Math.max(0.05, (at + above) / 2));
}

/** Trains a model on `records`; `log` hears progress. */
export function trainContentModel(records: readonly LabelledRecord[], settings: TrainSettings = DEFAULT_TRAIN_SETTINGS, log: (line: string) => void = () => {}): { model: ContentModel; report: TrainingReport } {
  const featurized = featurizeRecords(records, settings);
  log(`featurized ${records.length} records (${featurized.length} head inputs)`);
  return trainFeaturized(featurized, settings, log);
}

/** Trains a model on records featurized with the same settings (eval featurizes once for every fold). */
export function trainFeaturized(featurized: FeaturizedRecord[], settings: TrainSettings = DEFAULT_TRAIN_SETTINGS, log: (line: string) => void = () => {}): { model: ContentModel; report: TrainingReport } {
  const records = [...new Set(featurized.map((f) => f.record))];
  const classesOf = (head: ContentHead): string[] => [...new Set(featurized.filter((f) => f.head === head && f.record.label === 'malicious').map((f) => f.record.attack))].sort();
  const classes = { documentation: classesOf('documentation'), content: classesOf('content') };
  const folds = groupFolds(
    featurized.map((f) => f.record),
    settings.folds,
    String(settings.seed),
  );
  const outOfFold = new Array<number>(featurized.length).fill(0);
  for (let k = 0; k < settings.folds; k++) {
    const trained = trainHeads(
      featurized.filter((_, i) => folds[i] !== k),
      classes,
      settings,
      k + 1,
    );
    featurized.forEach((item, i) => {
      if (folds[i] === k) outOfFold[i] = windowScore(trained.heads[item.head], item);
    });
    log(`threshold fold ${k + 1}/${settings.folds} done`);
  }
  const thresholds = {} as TrainingReport['thresholds'];
  for (const head of ['documentation', 'content'] as const) {
    // The false-positive reference: benign text of the kind the head reads in traffic (not user-style arguments).
    const field = head === 'documentation' ? 'tool_description' : 'tool_result';
    const benign = featurized.flatMap((f, i) => (f.head === head && f.record.label === 'benign' && f.record.field === field ? [outOfFold[i] as number] : []));
    const threshold = thresholdFor(benign, settings.falsePositiveTarget);
    thresholds[head] = { threshold, huntThreshold: Math.min(threshold, thresholdFor(benign, settings.huntFalsePositiveTarget)), benign: benign.length };
  }
  const final = trainHeads(featurized, classes, settings, 0);
  const digest = createHash('sha256');
  for (const h of [final.heads.documentation, final.heads.content, ...final.classHeads.documentation, ...final.classHeads.content]) digest.update(Buffer.from(h.weights.buffer));
  const parts: ContentModelParts = {
    version: `cm1-${digest.digest('hex').slice(0, 10)}`,
    bits: settings.bits,
    heads: {
      documentation: { ...final.heads.documentation, ...pick(thresholds.documentation) },
      content: { ...final.heads.content, ...pick(thresholds.content) },
    },
    classes,
    classHeads: final.classHeads,
    window: settings.window,
    training: {
      records: records.length,
      sources: countBy(records, sourceName),
      settings: { ...settings, window: undefined, ...settings.window },
      thresholdBenignRecords: { documentation: thresholds.documentation.benign, content: thresholds.content.benign },
    },
  };
  return { model: new ContentModel(parts), report: { outOfFold, featurized, thresholds } };
}

function pick(t: { threshold: number; huntThreshold: number }): { threshold: number; huntThreshold: number } {
  return { threshold: Math.round(t.threshold * 1e4) / 1e4, huntThreshold: Math.round(t.huntThreshold * 1e4) / 1e4 };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
