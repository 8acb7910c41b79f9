#!/usr/bin/env node
/**
 * The top frames of a V8 CPU profile (node --cpu-prof): self time and inclusive time per function, as a share of
 * all samples. Usage: node scripts/profiling/cpuProfileTop.mjs DIR_OR_FILE [SELF_ROWS] [INCLUSIVE_ROWS]
 * FOCUS=REGEX keeps only the samples with a frame whose label matches (e.g. FOCUS='process detectors/detectorRuntime'
 * for the replay without building the workload), so shares are of the focused work.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const target = process.argv[2];
if (target === undefined) throw new Error('usage: cpuProfileTop.mjs DIR_OR_FILE [SELF_ROWS] [INCLUSIVE_ROWS]');
const file = statSync(target).isDirectory() ? join(target, readdirSync(target).find((f) => f.endsWith('.cpuprofile')) ?? '') : target;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const label = (node) => `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*?\/dist\//, '')}:${node.callFrame.lineNumber + 1}`;

const focus = process.env.FOCUS === undefined ? undefined : new RegExp(process.env.FOCUS);
const inFocus = (id) => {
  for (let at = id; at !== undefined; at = parent.get(at)) if (focus.test(label(byId.get(at)))) return true;
  return false;
};
const samples = new Map();
for (const id of profile.samples) if (focus === undefined || inFocus(id)) samples.set(id, (samples.get(id) ?? 0) + 1);
const self = new Map();
const inclusive = new Map();
for (const [id, count] of samples) {
  const own = label(byId.get(id));
  self.set(own, (self.get(own) ?? 0) + count);
  // A recursive function counts once per sample.
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const name = label(byId.get(at));
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + count);
  }
}
const total = [...samples.values()].reduce((a, b) => a + b, 0);
const rows = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, count]) => `${((100 * count) / total).toFixed(1).padStart(5)}%  ${name}`);
process.stdout.write(['self time:', ...rows(self, Number(process.argv[3] ?? 20)), '', 'inclusive time:', ...rows(inclusive, Number(process.argv[4] ?? 30))].join('\n') + '\n');
