/**
 * The learned tier measured on data it was not trained on: leave-one-source-out (train on every source but one,
 * run the held-out source through the stack with that fold's model) and grouped k-fold (recordGroups.ts keeps
 * templated twins on one side). Records are featurized once; each fold trains on its share and picks its own
 * thresholds by an inner grouped split of its training data.
 */
import type { ContentModel } from '../../detectors/content/model/contentModel.js';
import { sourceName, type LabelledRecord } from '../../detectors/content/model/training/labelledRecords.js';
import { groupFolds } from '../../detectors/content/model/training/recordGroups.js';
import { DEFAULT_TRAIN_SETTINGS, featurizeRecords, trainFeaturized, type FeaturizedRecord, type TrainSettings } from '../../detectors/content/model/training/trainContentModel.js';
import { runStack, type RecordOutcome } from './stackRun.js';

/** Fold training uses fewer inner folds than the shipped model: thresholds still come from held-out scores. */
export const FOLD_SETTINGS: TrainSettings = { ...DEFAULT_TRAIN_SETTINGS, folds: 2 };

/** One fold: its name, the model trained without it, and the stack's outcomes on its records. */
export interface FoldOutcome {
  name: string;
  model: ContentModel;
  outcomes: RecordOutcome[];
}

/** What a fold run is told: the rule directory, a log, and each fold as it completes (to report progressively). */
export interface FoldOptions {
  rules?: string;
  log: (line: string) => void;
  onFold?: (done: readonly FoldOutcome[]) => void;
}

function runFolds(evaluated: readonly LabelledRecord[], training: readonly LabelledRecord[], foldOf: (r: LabelledRecord) => string, options: FoldOptions): FoldOutcome[] {
  const featurized = featurizeRecords(training, FOLD_SETTINGS);
  const folds = [...new Set(evaluated.map(foldOf))].sort();
  const done: FoldOutcome[] = [];
  for (const name of folds) {
    const trainOn = featurized.filter((f: FeaturizedRecord) => foldOf(f.record) !== name);
    const { model } = trainFeaturized(trainOn, FOLD_SETTINGS);
    const held = evaluated.filter((r) => foldOf(r) === name);
    const outcomes = runStack(held, { ...(options.rules ? { rules: options.rules } : {}), contentModel: model });
    options.log(`fold ${name}: trained on ${new Set(trainOn.map((f) => f.record)).size} records, evaluated ${held.length}`);
    done.push({ name, model, outcomes });
    options.onFold?.(done);
  }
  return done;
}

/**
 * Leave-one-source-out over the sources of `evaluated`; `extraTraining` (hand-written cases) is always trained on
 * and never evaluated.
 */
export function leaveOneSourceOut(evaluated: readonly LabelledRecord[], extraTraining: readonly LabelledRecord[], options: FoldOptions): FoldOutcome[] {
  return runFolds(evaluated, [...evaluated, ...extraTraining], sourceName, options);
}

/** Grouped k-fold over `evaluated` (fold names `cv1`…). */
export function groupedCrossValidation(evaluated: readonly LabelledRecord[], extraTraining: readonly LabelledRecord[], k: number, options: FoldOptions): FoldOutcome[] {
  const all = [...evaluated, ...extraTraining];
  const folds = groupFolds(all, k, 'eval');
  const foldById = new Map(all.map((r, i) => [r, `cv${(folds[i] as number) + 1}`]));
  const held = new Set(extraTraining);
  return runFolds(evaluated, all, (r) => (held.has(r) ? 'train-only' : (foldById.get(r) as string)), options);
}
