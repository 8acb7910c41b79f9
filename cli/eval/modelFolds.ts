/**
 * The learned tier measured on data it was not trained on: leave-one-source-out (train on every source but one,
 * score the held-out source with that fold's model) and grouped k-fold (recordGroups.ts keeps templated twins on one
 * side). Each fold picks its own thresholds by an inner grouped split of its training data. The rest of the stack
 * runs once per record (evalTasks.ts); a fold's outcome on a record is that run with the learned tier's alerts
 * replaced by the fold model's.
 */
import type { ContentModel } from '../../detectors/content/model/contentModel.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { runEvalTasks } from './evalPool.js';
import { evalTasks, foldModel, type EvalData, type FoldScheme } from './evalTasks.js';
import { withLearnedAlerts, type RecordOutcome } from './stackRun.js';

/** One fold: its name, the model trained without it, and the stack's outcomes on its records. */
export interface FoldOutcome {
  name: string;
  model: ContentModel;
  outcomes: RecordOutcome[];
}

/** The stack with the shipped model on every record, and the folds of each scheme. */
export interface EvalOutcomes {
  shipped: RecordOutcome[];
  folds: FoldOutcome[][];
}

/** Runs the stack and every fold of `schemes` on `jobs` threads; `log` hears progress. */
export async function evaluateFolds(data: EvalData, schemes: readonly FoldScheme[], jobs: number, log: (line: string) => void): Promise<EvalOutcomes> {
  const tasks = evalTasks(data, schemes);
  const alerts: McpAlert[][] = new Array<McpAlert[]>(data.records.length);
  const learned = schemes.map(() => new Map<string, { model: ContentModel; learned: { index: number; alerts: McpAlert[] }[] }>());
  let done = 0;
  await runEvalTasks(data, tasks, jobs, (result) => {
    done += 1;
    if (result.kind === 'stack') {
      result.alerts.forEach((a, k) => (alerts[result.start + k] = a));
      log(`[${done}/${tasks.length}] stack: records ${result.start + 1}–${result.start + result.alerts.length}`);
    } else {
      const s = schemes.findIndex((scheme) => JSON.stringify(scheme) === JSON.stringify(result.scheme));
      learned[s]?.set(result.name, { model: foldModel(result.parts), learned: result.learned });
      log(`[${done}/${tasks.length}] fold ${result.name}: ${result.learned.length} held-out records scored by its model ${result.parts.version}`);
    }
  });
  const shipped = data.records.map((record, i) => ({ record, alerts: alerts[i] ?? [] }));
  const folds = learned.map((byName) =>
    [...byName.keys()].sort().map((name) => {
      const fold = byName.get(name) as { model: ContentModel; learned: { index: number; alerts: McpAlert[] }[] };
      return { name, model: fold.model, outcomes: fold.learned.map(({ index, alerts: own }) => withLearnedAlerts(shipped[index] as RecordOutcome, own)) };
    }),
  );
  return { shipped, folds };
}
