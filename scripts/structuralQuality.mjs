#!/usr/bin/env node
/**
 * Recall and false-positive rate of the tier-1 structural detectors on labelled JSONL (../shared/datasets
 * format, plus the benign captures of `npm run capture:benign` when they are in the cache), per source and per
 * attack, which cues fire on benign records, and the CPU time tier 1 takes on the descriptions — the quick check
 * while writing cues. With --rules, the same table for the shipped Sigma rules (every record through the replay
 * stack as `tapwire eval` runs it, the rules' alerts kept), with the rules that fire on benign records.
 * Descriptions get the fleet context the live detector builds (tool-name index, own tools, peer claim rates)
 * from the records themselves. The full quality report of the detection stack is `tapwire eval`.
 * Usage: npm run build && node scripts/structuralQuality.mjs [FILE.jsonl …] [--cues] [--rules] [--no-captures]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheLayout, defaultCacheRoot } from './benign/cacheLayout.mjs';
import { readLabelledRecords, sourceName } from '../dist/detectors/content/model/training/labelledRecords.js';
import { normalizeForDetection } from '../dist/detectors/content/textNormalization.js';
import { structuralSignals } from '../dist/detectors/content/structuralSignals.js';
import { documentationContext, FleetTextIndex } from '../dist/detectors/content/structural/fleetTextIndex.js';

const args = process.argv.slice(2);
const showCues = args.includes('--cues');
const withRules = args.includes('--rules');
const files = args.filter((a) => !a.startsWith('--'));
if (files.length === 0) {
  const datasets = join(import.meta.dirname, '..', '..', 'shared', 'datasets');
  files.push(...['descriptions', 'results', 'hard_negatives'].map((name) => join(datasets, `${name}.jsonl`)));
  const layout = cacheLayout(defaultCacheRoot());
  if (!args.includes('--no-captures')) for (const file of [layout.serversJsonl, layout.resultsJsonl]) if (existsSync(file)) files.push(file);
}

const { records, errors } = readLabelledRecords(files);
for (const error of errors) console.error(error);
console.log(`${records.length} records from ${files.join(', ')}`);

const fleet = new FleetTextIndex();
for (const r of records) if (r.field === 'tool_description' && r.tool_name) fleet.addTool(r.server ?? r.source, r.tool_name, normalizeForDetection(r.text).text);

const kindOf = (r) => (r.field === 'tool_result' ? 'content' : 'documentation');

/** What tier 1 reads of a record: normalized text, kind and fleet context. */
function tier1Input(r) {
  const kind = kindOf(r);
  return { text: normalizeForDetection(r.text).text, kind, context: kind === 'documentation' ? documentationContext(fleet, r.server ?? r.source, r.tool_name ?? undefined) : {} };
}

/** The Sigma rules on every record, as `tapwire eval` runs them (the whole replay stack, rules' alerts kept): rules per record id. */
async function ruleHits() {
  const { runStack } = await import('../dist/cli/eval/stackRun.js');
  const { tierOf } = await import('../dist/cli/eval/evalMetrics.js');
  const out = new Map();
  for (const { record, alerts } of runStack(records)) {
    out.set(record.id, alerts.filter((a) => tierOf(a) === 'rules' && a.rule.level !== 'informational').map((a) => ({ id: a.rule.name, evidence: a.matched?.[0]?.value ?? '' })));
  }
  return out;
}

function report(title, hitsOf) {
  const rows = new Map();
  const benign = new Map();
  const row = (key) => rows.get(key) ?? rows.set(key, { n: 0, flagged: 0 }).get(key);
  for (const r of records) {
    const hits = hitsOf(r);
    const keys = r.label === 'benign' ? [`FP ${r.field} ${sourceName(r)}`, `FP ${r.field} ALL`] : [`recall ${r.field} ${sourceName(r)} ${r.attack}`, `recall ${r.field} ${sourceName(r)} ALL`, `recall ${r.field} ALL`];
    for (const key of keys) {
      const t = row(key);
      t.n++;
      if (hits.length > 0) t.flagged++;
    }
    if (r.label === 'benign') for (const s of hits) (benign.get(s.id) ?? benign.set(s.id, []).get(s.id)).push(`${r.id}: ${s.evidence}`);
  }
  console.log(`\n## ${title}\nmeasure field source attack | records flagged rate`);
  for (const [key, { n, flagged }] of [...rows].sort()) console.log(`${key} | ${n} ${flagged} ${((100 * flagged) / n).toFixed(1)}%`);
  console.log(`\n${title}: signals on benign records`);
  for (const [id, list] of [...benign].sort((a, b) => b[1].length - a[1].length)) {
    console.log(`${id}: ${list.length}`);
    if (showCues) for (const e of list.slice(0, 8)) console.log(`    ${e.slice(0, 300)}`);
  }
}

const tier1Hits = new Map();
for (const r of records) {
  const { text, kind, context } = tier1Input(r);
  tier1Hits.set(r.id, structuralSignals(text, kind, context).map((s) => ({ id: s.id, evidence: s.evidence })));
}
report('tier 1 (structural signals)', (r) => tier1Hits.get(r.id));

// Speed on the datasets' descriptions (inputs prepared first): CPU time of this process, best of 3 passes.
const inputs = records.filter((r) => r.field === 'tool_description' && !r.id.startsWith('tapwire-')).map(tier1Input);
let best = Infinity;
for (let pass = 0; pass < 3; pass++) {
  const before = process.cpuUsage();
  for (const { text, kind, context } of inputs) structuralSignals(text, kind, context);
  const spent = process.cpuUsage(before);
  best = Math.min(best, spent.user + spent.system);
}
console.log(`\ntier-1 speed: ${inputs.length} dataset descriptions in ${(best / 1000).toFixed(0)} ms of CPU (best of 3): ${Math.round(inputs.length / (best / 1e6))} descriptions/s on one core`);
if (withRules) {
  const rules = await ruleHits();
  report('Sigma rules', (r) => rules.get(r.id));
}
