/**
 * `npm run train` on a small fixed sample (as CI runs it, in seconds): the script runs as a real process, writes an
 * artifact, and the model it produced scores cases written for this test correctly (modelCases.ts). The sample holds every record
 * whose id hashes into a fixed slice, so the run is the same on every machine; the same seed gives the same file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentModel } from '../../detectors/content/model/contentModel.js';
import { readModel } from '../../detectors/content/model/modelArtifact.js';
import { sharedDatasetsDir } from '../../detectors/content/model/training/trainingData.js';
import { REPO_ROOT } from '../support/tapwireCli.js';
import { MODEL_CASES } from './modelCases.js';

const SCRIPT = join(REPO_ROOT, 'dist', 'cli', 'training', 'trainModel.js');
const SAMPLE = '1500';

function train(out: string): { status: number | null; stderr: string } {
  const data = ['descriptions.jsonl', 'results.jsonl', 'hard_negatives.jsonl'].map((f) => join(sharedDatasetsDir(), f));
  const cases = join(REPO_ROOT, 'detectors', 'content', 'model', 'cases', 'train-cases.jsonl');
  const run = spawnSync(process.execPath, [SCRIPT, '--sample', SAMPLE, '--out', out, '--quiet', ...[...data, cases].flatMap((f) => ['--data', f])], { encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

describe('training the learned tier on a small fixed sample', () => {
  let dir: string;
  let model: ContentModel;
  let first: Buffer;

  beforeAll(() => {
    if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run 'npm run build' (npm test does)`);
    dir = mkdtempSync(join(tmpdir(), 'tapwire-train-'));
    const run = train(join(dir, 'a.twcm'));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    first = readFileSync(join(dir, 'a.twcm'));
    model = readModel(join(dir, 'a.twcm'));
  }, 300_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A model trained on 15% of the data has rough thresholds (1% of ~45 benign results is the top one), so a
  // malicious case must reach the hunting band and outscore every benign case of its head, and a benign case must
  // stay under the alert threshold.
  it.each(MODEL_CASES.map((c) => [c.name, c] as const))('scores "%s" on the right side', (_name, c) => {
    const verdict = model.score(c.text, c.head);
    if (!c.malicious) {
      expect(verdict.score).toBeLessThan(verdict.threshold);
      return;
    }
    expect(verdict.score).toBeGreaterThanOrEqual(verdict.huntThreshold);
    for (const benign of MODEL_CASES.filter((b) => !b.malicious && b.head === c.head)) expect(verdict.score, benign.name).toBeGreaterThan(model.score(benign.text, c.head).score);
  });

  it('names the attack class of its own head', () => {
    expect(model.parts.classes.content).toContain(model.score(MODEL_CASES.find((c) => c.head === 'content' && c.malicious)?.text ?? '', 'content').attackClass);
    expect(model.parts.classes.documentation).toContain(model.score(MODEL_CASES.find((c) => c.head === 'documentation' && c.malicious)?.text ?? '', 'documentation').attackClass);
  });

  it('is deterministic: a second run writes the same bytes', () => {
    const run = train(join(dir, 'b.twcm'));
    expect(run.status).toBe(0);
    expect(readFileSync(join(dir, 'b.twcm')).equals(first)).toBe(true);
  }, 300_000);
});
