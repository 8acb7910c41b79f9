/**
 * `npm run train`: trains the learned tier's model on the shared datasets, the benign captures (when present) and the
 * hand-written cases, and writes the artifact (default: the shipped one). Deterministic: the same data and seed give
 * the same file. --sample N trains on every record whose hash falls in a fixed N-in-10000 slice (CI uses it to
 * train in seconds); --data FILE… replaces the default data.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { readLabelledRecords, sourceName, type LabelledRecord } from '../../detectors/content/model/training/labelledRecords.js';
import { DEFAULT_TRAIN_SETTINGS, trainContentModel } from '../../detectors/content/model/training/trainContentModel.js';
import { trainingDataFiles } from '../../detectors/content/model/training/trainingData.js';
import { SHIPPED_MODEL_PATH, writeModel } from '../../detectors/content/model/modelArtifact.js';
import { packageRoot } from '../../pipeline/packagePaths.js';

/** Records whose id hashes into the first `perTenThousand` of 10000 slots; hand-written cases are always kept. */
export function fixedSample(records: readonly LabelledRecord[], perTenThousand: number): LabelledRecord[] {
  return records.filter((r) => sourceName(r) === 'handwritten' || createHash('sha256').update(r.id).digest().readUInt16BE(0) % 10_000 < perTenThousand);
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, sample: { type: 'string' }, data: { type: 'string', multiple: true }, quiet: { type: 'boolean' } },
  });
  const log = (line: string): void => {
    if (!values.quiet) process.stderr.write(`${line}\n`);
  };
  const found = values.data ? { files: values.data, notes: [] } : trainingDataFiles();
  for (const note of found.notes) process.stderr.write(`note: ${note}\n`);
  const { records, errors } = readLabelledRecords(found.files);
  for (const error of errors) process.stderr.write(`${error}\n`);
  const sample = values.sample === undefined ? undefined : Number(values.sample);
  if (sample !== undefined && !(Number.isInteger(sample) && sample > 0 && sample <= 10_000)) {
    process.stderr.write(`--sample: expected an integer in 1..10000, got '${values.sample}'\n`);
    return 2;
  }
  const used = sample === undefined ? records : fixedSample(records, sample);
  log(`training on ${used.length} records from ${found.files.length} files`);
  const { model, report } = trainContentModel(used, DEFAULT_TRAIN_SETTINGS, log);
  const out = values.out ?? join(packageRoot(), SHIPPED_MODEL_PATH);
  writeModel(out, model.parts);
  const t = report.thresholds;
  log(`wrote ${out}: model ${model.version}; thresholds documentation ${t.documentation.threshold.toFixed(4)} (hunt ${t.documentation.huntThreshold.toFixed(4)}), content ${t.content.threshold.toFixed(4)} (hunt ${t.content.huntThreshold.toFixed(4)})`);
  return errors.length > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
