/**
 * Where the learned tier's labelled data lives: the shared datasets (../shared/datasets beside the repository, or
 * $TAPWIRE_DATASETS), the benign captures of real npm MCP servers (scripts/benign/ rebuilds them under
 * ${TAPWIRE_DATA_CACHE:-~/.cache/tapwire}/benign; they are third-party text and never committed), and the cases
 * written for Tapwire (detectors/content/model/cases). Nothing else is trained on.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../../pipeline/packagePaths.js';

export interface TrainingDataFiles {
  files: string[];
  /** What is missing and how to get it, for the script to print. */
  notes: string[];
}

const jsonl = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
        .map((f) => join(dir, f))
    : [];

/** The shared datasets directory. */
export function sharedDatasetsDir(): string {
  return process.env.TAPWIRE_DATASETS ?? join(packageRoot(), '..', 'shared', 'datasets');
}

/** The benign capture directory. */
export function benignCaptureDir(): string {
  return join(process.env.TAPWIRE_DATA_CACHE ?? join(homedir(), '.cache', 'tapwire'), 'benign');
}

/** The hand-written training cases. */
export function handWrittenCasesDir(): string {
  return join(packageRoot(), 'detectors', 'content', 'model', 'cases');
}

/** Every training file that exists, with notes on what does not. */
export function trainingDataFiles(): TrainingDataFiles {
  const notes: string[] = [];
  const shared = jsonl(sharedDatasetsDir());
  if (shared.length === 0) notes.push(`no shared datasets in ${sharedDatasetsDir()} (set TAPWIRE_DATASETS)`);
  const benign = jsonl(benignCaptureDir());
  if (benign.length === 0) notes.push(`no benign captures in ${benignCaptureDir()}: run 'node scripts/benign/capture.mjs' to build them (training goes on without them)`);
  return { files: [...shared, ...benign, ...jsonl(handWrittenCasesDir())], notes };
}
