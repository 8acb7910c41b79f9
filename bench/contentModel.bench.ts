/**
 * The learned tier: artifact load time, and descriptions scored per second on one core without the score cache
 * (every text new), split into normalization + tier-1 signals and featurizing + scoring, against the same texts
 * only lower-cased (the floor of any text pass). Texts: the tool descriptions of ../shared/datasets when present.
 * Then the whole detection stack (rule pack and every detector) on the detectors benchmark's workload with the
 * learned tier on and off, rounds interleaved in one run, in CPU time (issue 9's goal: at most 20% throughput lost).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { prepareText } from '../detectors/content/model/contentModel.js';
import { forgetReadings } from '../detectors/content/textReadings.js';
import { readModel, SHIPPED_MODEL_PATH } from '../detectors/content/model/modelArtifact.js';
import { readLabelledRecords } from '../detectors/content/model/training/labelledRecords.js';
import { sharedDatasetsDir } from '../detectors/content/model/training/trainingData.js';
import { DetectorRuntime } from '../detectors/detectorRuntime.js';
import { EmbeddedStateStore } from '../detectors/embeddedStateStore.js';
import { createDetectors } from '../detectors/registry.js';
import { RuleSet } from '../detectors/sigma/ruleSet.js';
import { packageRoot } from '../pipeline/packagePaths.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import { fmt, machineLine } from './benchReport.js';
import { workload } from './detectors.bench.js';

export const id = 'content-model';

export interface ContentModelFigures {
  loadMs: number;
  texts: number;
  meanChars: number;
  perSecond: number;
  prepareShare: number;
  lowerCasePerSecond: number;
  stack: StackFigures;
}

/** The whole stack with the learned tier on and off. */
export interface StackFigures {
  events: number;
  on: { perSecond: number; alerts: number; learnedAlerts: number };
  off: { perSecond: number; alerts: number };
}

const STACK_SESSIONS = 2_000;
const STACK_SERVERS = 200;
const STACK_BATCH = 1_000;

/** CPU seconds of one pass of `events` through a fresh in-memory runtime, and the alerts by rule id prefix. */
function stackPass(events: readonly McpEvent[], learnedTier: boolean): { seconds: number; alerts: number; learnedAlerts: number } {
  const state = new EmbeddedStateStore(':memory:');
  try {
    // A fresh model and an empty reading cache each pass: no text read in one pass may be a cache hit in the next.
    forgetReadings();
    const detectors = learnedTier ? createDetectors({ contentModel: readModel(join(packageRoot(), SHIPPED_MODEL_PATH)) }) : createDetectors().filter((d) => d.id !== 'tapwire.content-model');
    const runtime = new DetectorRuntime(state, { detectors, rules: RuleSet.load(join(packageRoot(), 'rules')), reorderLatenessMs: 2000 });
    let alerts = 0;
    let learnedAlerts = 0;
    // Copies made before timing: the runtime may annotate events, and each pass must start from the same input.
    const input = events.map((e) => structuredClone(e));
    const t0 = process.cpuUsage();
    for (let i = 0; i <= events.length; i += STACK_BATCH) {
      const batch = runtime.batch();
      const raised = i < events.length ? batch.process(input.slice(i, i + STACK_BATCH)) : batch.release();
      batch.commit();
      alerts += raised.length;
      learnedAlerts += raised.filter((a) => a.rule.id.startsWith('tapwire.content-model')).length;
    }
    const used = process.cpuUsage(t0);
    return { seconds: (used.user + used.system) / 1e6, alerts, learnedAlerts };
  } finally {
    state.close();
  }
}

/** On and off passes interleaved (so machine load hits both alike), best of 3 each. */
export function measureStack(): StackFigures {
  const events = workload(STACK_SESSIONS, STACK_SERVERS);
  let on = { seconds: Number.POSITIVE_INFINITY, alerts: 0, learnedAlerts: 0 };
  let off = { seconds: Number.POSITIVE_INFINITY, alerts: 0, learnedAlerts: 0 };
  for (let round = 0; round < 3; round++) {
    const a = stackPass(events, true);
    if (a.seconds < on.seconds) on = a;
    const b = stackPass(events, false);
    if (b.seconds < off.seconds) off = b;
  }
  return { events: events.length, on: { perSecond: events.length / on.seconds, alerts: on.alerts, learnedAlerts: on.learnedAlerts }, off: { perSecond: events.length / off.seconds, alerts: off.alerts } };
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
    stack: measureStack(),
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
    `Normalization and tier-1 signals take ${fmt(100 * f.prepareShare)}% of the scoring time. A repeated text (a tools/list seen again) is a cache hit: a look-up of the exact text (detectors/content/textReadings.ts).`,
    '',
    `Whole detection stack (shipped rule pack and every registered detector) on the detectors benchmark's workload, ${fmt(STACK_SESSIONS)} sessions on ${fmt(STACK_SERVERS)} servers (${fmt(f.stack.events)} events, every tool result a new text), in-memory state, CPU seconds of one core, on and off passes interleaved, best of 3:`,
    '',
    '| learned tier | events/s | relative | alerts (learned tier) |',
    '|---|---|---|---|',
    `| off | ${fmt(f.stack.off.perSecond)} | 1.00× | ${fmt(f.stack.off.alerts)} |`,
    `| on | ${fmt(f.stack.on.perSecond)} | **${fmt(f.stack.on.perSecond / f.stack.off.perSecond, 2)}×** | ${fmt(f.stack.on.alerts)} (${fmt(f.stack.on.learnedAlerts)}) |`,
    '',
    `The learned tier costs ${fmt(100 * (1 - f.stack.on.perSecond / f.stack.off.perSecond), 1)}% of the stack's throughput (goal: at most 20%).`,
  ].join('\n');
}
