/**
 * The pieces an eval run is cut into, so they can run on several cores: stack chunks (records through the rule
 * pack, the stateful detectors and the shipped model; none of it depends on a fold, so every record runs once) and
 * folds (train the learned tier without the fold's records, then score those records with it). A chunk is a fresh
 * stack over consecutive records: each record is its own server, and a fleet of CHUNK_RECORDS servers is the
 * fleet-wide context (tool-name index, peer claims) that tier 1 compares against — bounded, so a chunk costs the
 * same whatever the size of the data (one stack over 26,000 servers costs quadratic time in those comparisons).
 */
import { ContentModel, type ContentModelParts } from '../../detectors/content/model/contentModel.js';
import { sourceName, type LabelledRecord } from '../../detectors/content/model/training/labelledRecords.js';
import { groupFolds } from '../../detectors/content/model/training/recordGroups.js';
import { DEFAULT_TRAIN_SETTINGS, featurizeRecords, trainFeaturized, type FeaturizedRecord, type TrainSettings } from '../../detectors/content/model/training/trainContentModel.js';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { learnedTierAlerts, runStack } from './stackRun.js';

/** Records per stack chunk. */
export const CHUNK_RECORDS = 500;

/** Fold training uses fewer inner folds than the shipped model: thresholds still come from held-out scores. */
export const FOLD_SETTINGS: TrainSettings = { ...DEFAULT_TRAIN_SETTINGS, folds: 2 };

/** How records are split into folds: by source (leave-one-source-out) or grouped k-fold (`cv1`…). */
export type FoldScheme = { kind: 'loso' } | { kind: 'cv'; k: number };

export type EvalTask = { kind: 'stack'; start: number; end: number } | { kind: 'fold'; scheme: FoldScheme; name: string };

export type EvalResult =
  | { kind: 'stack'; start: number; alerts: McpAlert[][] }
  | { kind: 'fold'; scheme: FoldScheme; name: string; parts: ContentModelParts; learned: { index: number; alerts: McpAlert[] }[] };

/** What every task reads: the evaluated records, the cases that are only trained on, the rule directory. */
export interface EvalData {
  records: LabelledRecord[];
  extraTraining: LabelledRecord[];
  rules?: string;
}

/** The fold name of every record of `data` (evaluated records first, then the train-only ones) under a scheme. */
export function foldNames(data: EvalData, scheme: FoldScheme): string[] {
  const all = [...data.records, ...data.extraTraining];
  if (scheme.kind === 'loso') return all.map((r, i) => (i < data.records.length ? sourceName(r) : 'train-only'));
  const folds = groupFolds(all, scheme.k, 'eval');
  return all.map((_, i) => (i < data.records.length ? `cv${(folds[i] as number) + 1}` : 'train-only'));
}

/** The tasks of an eval run: every fold of each scheme (largest training first), then the stack chunks. */
export function evalTasks(data: EvalData, schemes: readonly FoldScheme[]): EvalTask[] {
  const tasks: EvalTask[] = [];
  for (const scheme of schemes) {
    const names = foldNames(data, scheme).slice(0, data.records.length);
    const sizes = new Map<string, number>();
    for (const n of names) sizes.set(n, (sizes.get(n) ?? 0) + 1);
    for (const name of [...sizes.keys()].sort((a, b) => (sizes.get(a) as number) - (sizes.get(b) as number) || a.localeCompare(b))) tasks.push({ kind: 'fold', scheme, name });
  }
  for (let start = 0; start < data.records.length; start += CHUNK_RECORDS) tasks.push({ kind: 'stack', start, end: Math.min(data.records.length, start + CHUNK_RECORDS) });
  return tasks;
}

/** Runs tasks over one copy of the data; the featurized training set is built once and shared by its folds. */
export class EvalRunner {
  private featurized: FeaturizedRecord[] | undefined;
  private readonly foldsByScheme = new Map<string, string[]>();

  constructor(private readonly data: EvalData) {}

  run(task: EvalTask): EvalResult {
    if (task.kind === 'stack') {
      const outcomes = runStack(this.data.records.slice(task.start, task.end), this.data.rules ? { rules: this.data.rules } : {}, task.start);
      return { kind: 'stack', start: task.start, alerts: outcomes.map((o) => o.alerts) };
    }
    const key = JSON.stringify(task.scheme);
    if (!this.foldsByScheme.has(key)) this.foldsByScheme.set(key, foldNames(this.data, task.scheme));
    const names = this.foldsByScheme.get(key) as string[];
    this.featurized ??= featurizeRecords([...this.data.records, ...this.data.extraTraining], FOLD_SETTINGS);
    const index = new Map([...this.data.records, ...this.data.extraTraining].map((r, i) => [r, i]));
    const { model } = trainFeaturized(
      this.featurized.filter((f) => names[index.get(f.record) as number] !== task.name),
      FOLD_SETTINGS,
    );
    const state = new EmbeddedStateStore(':memory:');
    try {
      const learned: { index: number; alerts: McpAlert[] }[] = [];
      this.data.records.forEach((record, i) => {
        if (names[i] === task.name) learned.push({ index: i, alerts: learnedTierAlerts(model, record, i, state) });
      });
      return { kind: 'fold', scheme: task.scheme, name: task.name, parts: model.parts, learned };
    } finally {
      state.close();
    }
  }
}

/** A fold's model from the parts a worker sent back. */
export const foldModel = (parts: ContentModelParts): ContentModel => new ContentModel(parts);
