#!/usr/bin/env node
/**
 * Recall and false-positive rate of the tier-1 structural detectors on labelled JSONL (../shared/datasets
 * format), per source and attack, and which cues fire on benign records — the quick check while writing
 * cues. Descriptions get the fleet context the live detector builds (tool-name index, own tools, peer claim
 * rates) from the records themselves. The full quality report of the detection stack is `tapwire eval`.
 * Usage: npm run build && node scripts/structuralQuality.mjs [FILE.jsonl …] [--cues]
 */
import { readFileSync } from 'node:fs';
import { normalizeForDetection } from '../dist/detectors/content/textNormalization.js';
import { structuralSignals } from '../dist/detectors/content/structuralSignals.js';
import { documentationContext, FleetTextIndex } from '../dist/detectors/content/structural/fleetTextIndex.js';

const args = process.argv.slice(2);
const showCues = args.includes('--cues');
const files = args.filter((a) => !a.startsWith('--'));
if (files.length === 0) files.push('../shared/datasets/descriptions.jsonl', '../shared/datasets/results.jsonl', '../shared/datasets/hard_negatives.jsonl');

const records = files.flatMap((file) =>
  readFileSync(file, 'utf8').split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      return [{ file, ...JSON.parse(line) }];
    } catch (error) {
      throw new Error(`${file}:${i + 1}: not JSON (${error.message})`);
    }
  }),
);

const fleet = new FleetTextIndex();
for (const r of records) if (r.field === 'tool_description' && r.tool_name) fleet.addTool(r.server ?? r.source, r.tool_name, normalizeForDetection(r.text).text);

const rows = new Map();
const benignCues = new Map();
const row = (key) => rows.get(key) ?? rows.set(key, { n: 0, flagged: 0 }).get(key);
for (const r of records) {
  const kind = r.field === 'tool_result' ? 'content' : 'documentation';
  const { text, findings } = normalizeForDetection(r.text);
  const context = kind === 'documentation' ? documentationContext(fleet, r.server ?? r.source, r.tool_name ?? undefined) : {};
  const signals = structuralSignals(text, kind, context);
  const flagged = signals.length > 0;
  for (const key of [`${r.field} ${r.label} ${r.source} ${r.attack}`, `${r.field} ${r.label} ALL`]) {
    const t = row(key);
    t.n++;
    if (flagged) t.flagged++;
  }
  if (r.label === 'benign') {
    for (const s of signals) {
      const list = benignCues.get(s.id) ?? benignCues.set(s.id, []).get(s.id);
      list.push(`${r.id}: ${s.evidence}`);
    }
  }
  void findings;
}

console.log('field label source attack | records flagged rate');
for (const [key, { n, flagged }] of [...rows].sort()) console.log(`${key} | ${n} ${flagged} ${((100 * flagged) / n).toFixed(1)}%`);
console.log('\ncues on benign records:');
for (const [cue, list] of [...benignCues].sort((a, b) => b[1].length - a[1].length)) {
  console.log(`${cue}: ${list.length}`);
  if (showCues) for (const e of list.slice(0, 8)) console.log(`    ${e}`);
}
