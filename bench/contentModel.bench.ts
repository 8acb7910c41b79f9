/**
 * The learned tier: artifact load time, and descriptions scored per second on one core without the score cache
 * (every text new), split into normalization + tier-1 signals and featurizing + scoring, against the same texts
 * only lower-cased (the floor of any text pass). Texts: the tool descriptions of ../shared/datasets when present.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { prepareText } from '../detectors/content/model/contentModel.js';
import { readModel, SHIPPED_MODEL_PATH } from '../detectors/content/model/modelArtifact.js';
import { readLabelledRecords } from '../detectors/content/model/training/labelledRecords.js';
import { sharedDatasetsDir } from '../detectors/content/model/training/trainingData.js';
import { packageRoot } from '../pipeline/packagePaths.js';
import { fmt, machineLine } from './benchReport.js';

export const id = 'content-model';

export interface ContentModelFigures {
  loadMs: number;
  texts: number;
  meanChars: number;
  perSecond: number;
  prepareShare: number;
  lowerCasePerSecond: number;
}

function descriptions(): string[] {
  const file = join(sharedDatasetsDir(), 'descriptions.jsonl');
  if (!existsSync(file)) throw new Error(`${file} is missing: the content-model bench scores the shared datasets' descriptions`);
  return readLabelledRecords([file]).records.map((r) => r.text);
}

/** Runs the measurements. */
export function measureContentModel(): ContentModelFigures {
  const started = performance.now();
  const model = readModel(join(packageRoot(), SHIPPED_MODEL_PATH));
  const loadMs = performance.now() - started;
  const texts = descriptions();
  // CPU time of this process, not wall time: the figure is per core even on a machine shared with other work.
  const best = (work: () => void): number => {
    let fastest = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round++) {
      const t0 = process.cpuUsage();
      work();
      const used = process.cpuUsage(t0);
      fastest = Math.min(fastest, (used.user + used.system) / 1e6);
    }
    return fastest;
  };
  let sink = 0;
  const lower = best(() => {
    for (const t of texts) sink += t.toLowerCase().length;
  });
  const prepareOnly = best(() => {
    for (const t of texts) sink += prepareText(t, 'documentation').signals.length;
  });
  const full = best(() => {
    for (const t of texts) sink += model.scorePrepared(prepareText(t, 'documentation'), 'documentation').score;
  });
  if (Number.isNaN(sink)) throw new Error('unreachable');
  return {
    loadMs,
    texts: texts.length,
    meanChars: texts.reduce((n, t) => n + t.length, 0) / texts.length,
    perSecond: texts.length / full,
    prepareShare: prepareOnly / full,
    lowerCasePerSecond: texts.length / lower,
  };
}

/** The BENCHMARKS.md section. */
export async function run(): Promise<string> {
  const f = measureContentModel();
  return [
    '## Learned tier: content model (issue 9)',
    '',
    machineLine(),
    '',
    `Shipped artifact loads in ${fmt(f.loadMs)} ms. Scoring ${fmt(f.texts)} tool descriptions of ../shared/datasets (mean ${fmt(f.meanChars)} characters) with the documentation head, score cache bypassed (every text new), CPU seconds of one core (the machine is shared), best of 3:`,
    '',
    '| pass | descriptions/s |',
    '|---|---|',
    `| lower-casing only (floor) | ${fmt(f.lowerCasePerSecond)} |`,
    `| normalize + tier-1 signals + featurize + score | **${fmt(f.perSecond)}** |`,
    '',
    `Normalization and tier-1 signals take ${fmt(100 * f.prepareShare)}% of the scoring time. A repeated text (a tools/list seen again) is a cache hit: one SHA-1 of the text.`,
  ].join('\n');
}
