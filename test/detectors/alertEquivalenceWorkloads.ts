/**
 * The workloads the alert-equivalence test replays through the full detection stack — the shipped rule pack, every
 * registered stateful detector and the learned tier, through the real DetectorRuntime as a live worker runs them
 * (event-time reordering, committed batches) — and the fingerprint summary it compares with the golden file.
 *
 * Workloads: the detectors benchmark's traffic (bench/detectors.bench.ts at 2,000 sessions on 200 servers: every rule
 * the full-size run raises, in a test that runs in minutes), every labelled corpus file (test/corpus/malicious,
 * benign: each item on fresh state, as the corpus is measured), every stateful scenario (test/corpus/scenarios, with
 * its inventory) and every transcript scenario (test/corpus/scenarios-usage, scenarios-cross, with the corpus
 * baseline and settings).
 */
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { workload as benchWorkload } from '../../bench/detectors.bench.js';
import { corpusTranscript, loadCorpus } from '../../cli/ruleTesting/corpusItems.js';
import { transcriptEvents } from '../../cli/ruleTesting/transcriptEvents.js';
import { createDetectors, type DetectorSettings } from '../../detectors/registry.js';
import { RuleSet } from '../../detectors/sigma/ruleSet.js';
import { decodeEvent } from '../../pipeline/recordCodec.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { REPO_ROOT } from '../support/tapwireCli.js';
import { runFresh } from './detectorHarness.js';
import { loadScenarios } from './scenarioCorpus.js';
import { scriptEvents } from './sessionScript.js';
import { loadTranscriptCorpus, scenarioEvents } from './transcriptCorpus.js';

/** One replay: its events (in arrival order, possibly several runs on fresh state) and the detector settings. */
export interface EquivalenceWorkload {
  name: string;
  /** Each entry runs on fresh state; a corpus file's items are separate runs, as the corpus is measured. */
  runs: () => Promise<McpEvent[][]>;
  settings: DetectorSettings;
}

/** Every workload, in a fixed order. */
export function equivalenceWorkloads(): EquivalenceWorkload[] {
  const workloads: EquivalenceWorkload[] = [{ name: 'bench/detectors workload', runs: async () => [benchWorkload(2_000, 200)], settings: {} }];

  const corpus = loadCorpus(['malicious', 'benign'].map((label) => join(REPO_ROOT, 'test', 'corpus', label)));
  if (corpus.errors.length > 0) throw new Error(corpus.errors.map((e) => e.message).join('\n'));
  const files = [...new Set(corpus.items.map((item) => item.file))];
  for (const file of files) {
    const items = corpus.items.filter((item) => item.file === file);
    workloads.push({
      name: relative(REPO_ROOT, file),
      runs: async () => items.map((item) => transcriptEvents(item.file, corpusTranscript(item), { redact: item.redact })),
      settings: {},
    });
  }

  for (const scenario of loadScenarios()) {
    workloads.push({
      name: `test/corpus/scenarios/${scenario.name}`,
      runs: async () => [scriptEvents(`${scenario.name}.ndjson`, scenario.sessions)],
      settings: { inventory: scenario.inventory },
    });
  }

  for (const [name, key] of [['scenarios-usage', 'usage'], ['scenarios-cross', 'crossServer']] as const) {
    const transcripts = loadTranscriptCorpus(name);
    for (const scenario of transcripts.scenarios) {
      workloads.push({ name: `test/corpus/${name}/${scenario.file}`, runs: async () => [await scenarioEvents(transcripts, scenario)], settings: { [key]: transcripts.settings } });
    }
  }
  return workloads;
}

/**
 * Replays `events` through the full stack on fresh state, with the runtime's default tick interval; detector errors
 * fail the run. Each event goes in as a worker gets it: decoded from its bus record (pipeline/recordCodec.ts), whose
 * text detection may read instead of walking the event.
 */
export function replayFullStack(events: readonly McpEvent[], settings: DetectorSettings): McpAlert[] {
  const decoded = events.map((event) => {
    const record = decodeEvent(JSON.stringify(event));
    if (!('event' in record)) throw new Error(`${event.event.id}: ${record.error}`);
    return record.event;
  });
  return runFresh(createDetectors(settings), decoded, { rules: RuleSet.load(join(REPO_ROOT, 'rules')), reorderLatenessMs: 2000, batchSize: 1_000, tickIntervalMs: 300_000 });
}

/**
 * One line per rule that alerted: `rule-id count sha256-of-sorted-fingerprints`. Counting and hashing per rule keeps
 * the golden file small and says which rule changed when the comparison fails.
 */
export function fingerprintSummary(alerts: readonly McpAlert[]): string[] {
  const byRule = new Map<string, string[]>();
  for (const alert of alerts) {
    const list = byRule.get(alert.rule.id) ?? [];
    list.push(alert.alert.fingerprint);
    byRule.set(alert.rule.id, list);
  }
  return [...byRule.keys()].sort().map((rule) => {
    const fingerprints = byRule.get(rule)!.sort();
    return `${rule} ${fingerprints.length} ${createHash('sha256').update(fingerprints.join('\n')).digest('hex').slice(0, 32)}`;
  });
}

/** The golden file's text: a `## workload` header and its summary lines, per workload. */
export async function goldenText(workloads: readonly EquivalenceWorkload[]): Promise<string> {
  const sections: string[] = [];
  for (const workload of workloads) {
    const alerts = (await workload.runs()).flatMap((events) => replayFullStack(events, workload.settings));
    sections.push([`## ${workload.name}`, ...fingerprintSummary(alerts)].join('\n'));
  }
  return `${sections.join('\n\n')}\n`;
}
