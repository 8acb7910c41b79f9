/**
 * The transcript scenario corpora (test/corpus/scenarios-usage, scenarios-cross): a manifest of labelled
 * NDJSON transcripts (docs/ARCHITECTURE.md's replay format) with the alerts each must raise and the ones the
 * detectors are known to miss, and the quality measures over them — recall and false positives per detector.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { Redactor } from '../../collectors/redaction.js';
import type { Detector } from '../../detectors/detector.js';
import { readTranscriptFile } from '../../collectors/transcriptReader.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { REPO_ROOT } from '../support/tapwireCli.js';
import { runFresh } from './detectorHarness.js';

const ScenarioSchema = z
  .object({
    file: z.string().min(1),
    label: z.enum(['benign', 'malicious']),
    description: z.string().min(1),
    expect: z.array(z.string()),
    missed: z.array(z.string()).default([]),
  })
  .strict();

const ManifestSchema = z
  .object({
    baseline: z.string().optional(),
    settings: z.record(z.string(), z.unknown()),
    scenarios: z.array(ScenarioSchema).min(1),
  })
  .strict();

export type TranscriptScenario = z.infer<typeof ScenarioSchema>;

/** A corpus directory and its manifest. */
export interface TranscriptCorpus {
  dir: string;
  baseline?: string;
  settings: Record<string, unknown>;
  scenarios: TranscriptScenario[];
}

/** Recall and false positives of one detector over a corpus. */
export interface DetectorQuality {
  /** Alerts the scenarios call for (expected and known misses). */
  expected: number;
  detected: number;
  missed: number;
  falsePositives: number;
  recall: number;
}

/** Loads `test/corpus/<name>/manifest.yaml`; throws naming the manifest and the bad field. */
export function loadTranscriptCorpus(name: string): TranscriptCorpus {
  const dir = join(REPO_ROOT, 'test', 'corpus', name);
  const file = join(dir, 'manifest.yaml');
  const parsed = ManifestSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  return { dir, ...parsed.data };
}

/** A fixed key, so placeholders are the same on every machine. */
const redactor = new Redactor('tapwire scenario corpus');

async function transcript(path: string): Promise<McpEvent[]> {
  const events: McpEvent[] = [];
  for await (const event of readTranscriptFile(path, { redactor })) events.push(event);
  return events;
}

/** The events of a scenario: the corpus baseline, if any, then the scenario's transcript. */
export async function scenarioEvents(corpus: TranscriptCorpus, scenario: TranscriptScenario): Promise<McpEvent[]> {
  const baseline = corpus.baseline === undefined ? [] : await transcript(join(corpus.dir, corpus.baseline));
  return [...baseline, ...(await transcript(join(corpus.dir, scenario.file)))];
}

/** How many of `wanted` are in `raised`, each raised alert matching at most one wanted. */
function matchedCount(raised: readonly string[], wanted: readonly string[]): number {
  const left = [...raised];
  let found = 0;
  for (const id of wanted) {
    const at = left.indexOf(id);
    if (at === -1) continue;
    left.splice(at, 1);
    found++;
  }
  return found;
}

/** Recall and false positives per detector id, from each scenario and the alerts it raised. */
export function corpusQuality(runs: readonly { scenario: TranscriptScenario; alerts: readonly McpAlert[] }[], detectorIds: readonly string[]): Record<string, DetectorQuality> {
  const quality: Record<string, DetectorQuality> = {};
  for (const id of detectorIds) {
    const owns = (ruleId: string): boolean => ruleId.startsWith(`${id}.`);
    let expected = 0;
    let detected = 0;
    let raisedTotal = 0;
    for (const { scenario, alerts } of runs) {
      const raised = alerts.map((a) => a.rule.id).filter(owns);
      const wanted = [...scenario.expect, ...scenario.missed].filter(owns);
      expected += wanted.length;
      detected += matchedCount(raised, wanted);
      raisedTotal += raised.length;
    }
    quality[id] = { expected, detected, missed: expected - detected, falsePositives: raisedTotal - detected, recall: expected === 0 ? 1 : Math.round((detected / expected) * 1000) / 1000 };
  }
  return quality;
}

/**
 * The tests of a corpus: every scenario, on fresh state, raises exactly the alerts it expects, and the
 * detectors' recall and false positives are `quality` (the figures the README reports).
 */
export function describeTranscriptCorpus(name: string, createDetectors: (settings: unknown) => Detector[], quality: Record<string, DetectorQuality>): void {
  const corpus = loadTranscriptCorpus(name);
  describe(`scenario corpus ${name}`, () => {
    const runs: { scenario: TranscriptScenario; alerts: McpAlert[] }[] = [];

    beforeAll(async () => {
      for (const scenario of corpus.scenarios) runs.push({ scenario, alerts: runFresh(createDetectors(corpus.settings), await scenarioEvents(corpus, scenario)) });
    });

    it.each(corpus.scenarios.map((s) => [s.file, s] as const))('%s raises exactly its expected alerts', (_file, scenario) => {
      const run = runs.find((r) => r.scenario === scenario)!;
      expect(run.alerts.map((a) => a.rule.id).sort()).toEqual([...scenario.expect].sort());
    });

    it('has hard negatives, and the recall and false positives the README reports', () => {
      expect(corpus.scenarios.filter((s) => s.label === 'benign').length).toBeGreaterThanOrEqual(4);
      expect(corpusQuality(runs, createDetectors({}).map((d) => d.id))).toEqual(quality);
    });
  });
}
