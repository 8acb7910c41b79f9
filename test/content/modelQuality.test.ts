/**
 * Quality floor of the learned tier on a fixed grouped split of ../shared/datasets: records are split by group
 * (recordGroups.ts: templated twins stay on one side), the model trains on four fifths and is measured on the
 * rest at the thresholds its own training chose. Floors sit a little under what was measured when they were set
 * (DETECTION.md), so a change that makes the model worse fails here.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLabelledRecords, type LabelledRecord } from '../../detectors/content/model/training/labelledRecords.js';
import { groupFolds } from '../../detectors/content/model/training/recordGroups.js';
import { DEFAULT_TRAIN_SETTINGS, trainContentModel } from '../../detectors/content/model/training/trainContentModel.js';
import { sharedDatasetsDir } from '../../detectors/content/model/training/trainingData.js';
import type { ContentModel } from '../../detectors/content/model/contentModel.js';

// Measured 2026-12-03 (model code of commit "Learned tier: int8 scoring tables…"): descriptions 3.3%, results 78.5%,
// benign definitions 1.15%, hard negatives 0%. Descriptions are the learned tier's weak side (DETECTION.md).
const FLOORS = { maliciousDescriptions: 0.02, maliciousResults: 0.7, benignDefinitionsFp: 0.02, hardNegativesFp: 0.03 };

describe('learned tier quality on a fixed grouped split', () => {
  let test: LabelledRecord[];
  let model: ContentModel;

  beforeAll(() => {
    const { records, errors } = readLabelledRecords(['descriptions.jsonl', 'results.jsonl', 'hard_negatives.jsonl'].map((f) => join(sharedDatasetsDir(), f)));
    expect(errors).toEqual([]);
    const folds = groupFolds(records, 5, 'quality-floor');
    test = records.filter((_, i) => folds[i] === 0);
    model = trainContentModel(
      records.filter((_, i) => folds[i] !== 0),
      { ...DEFAULT_TRAIN_SETTINGS, folds: 3 },
    ).model;
  }, 600_000);

  const flagged = (r: LabelledRecord): boolean => {
    const v = model.score(r.text, r.field === 'tool_result' ? 'content' : 'documentation');
    return v.score >= v.threshold;
  };
  const share = (rs: LabelledRecord[]): number => rs.filter(flagged).length / Math.max(1, rs.length);

  it('keeps recall and false positives on the held-out groups within the floors', () => {
    const figures = {
      maliciousDescriptions: share(test.filter((r) => r.label === 'malicious' && r.field === 'tool_description')),
      maliciousResults: share(test.filter((r) => r.label === 'malicious' && r.field === 'tool_result')),
      benignDefinitionsFp: share(test.filter((r) => r.label === 'benign' && r.field === 'tool_description' && !r.origin.includes('hard_negatives'))),
      hardNegativesFp: share(test.filter((r) => r.origin.includes('hard_negatives'))),
    };
    process.stderr.write(`grouped split figures: ${JSON.stringify(figures)}\n`);
    expect(figures.maliciousDescriptions).toBeGreaterThanOrEqual(FLOORS.maliciousDescriptions);
    expect(figures.maliciousResults).toBeGreaterThanOrEqual(FLOORS.maliciousResults);
    expect(figures.benignDefinitionsFp).toBeLessThanOrEqual(FLOORS.benignDefinitionsFp);
    expect(figures.hardNegativesFp).toBeLessThanOrEqual(FLOORS.hardNegativesFp);
  });
});
