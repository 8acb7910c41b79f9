#!/usr/bin/env node
/**
 * A small driver for profiling detection (issue 13): the detectors benchmark workload (bench/detectors.bench.ts)
 * replayed once through the built code (dist/) as NDJSON, batches of 1,000 on in-memory state. Rates use this
 * process's CPU time, not wall time, so a machine shared with other work still gives comparable figures; compare
 * two builds in the same run by pointing DIST at the other one (detectorsBeforeAfter.mjs does, alternating).
 *
 *   npm run build && node --cpu-prof --cpu-prof-dir=/tmp/prof scripts/profiling/detectorsReplay.mjs all 3000
 *   node scripts/profiling/cpuProfileTop.mjs /tmp/prof
 *
 * Modes: all (rule pack + every detector), rules, detectors, identity (the server-identity detector alone), content
 * (the two content tiers alone: tier-1 structural signals and the learned tier).
 * Second argument: sessions (servers are a tenth of them, 11 events per session).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = process.env.DIST ?? fileURLToPath(new URL('../../dist', import.meta.url));
const rulesDir = fileURLToPath(new URL('../../rules', import.meta.url));
// WORKLOAD_DIST: the build whose workload generator makes the events, so two builds replay the very same events.
const { workload } = await import(join(process.env.WORKLOAD_DIST ?? root, 'bench/detectors.bench.js'));
const { DetectorRuntime } = await import(join(root, 'detectors/detectorRuntime.js'));
const { EmbeddedStateStore } = await import(join(root, 'detectors/embeddedStateStore.js'));
const { createDetectors } = await import(join(root, 'detectors/registry.js'));
const { RuleSet } = await import(join(root, 'detectors/sigma/ruleSet.js'));

const MODES = ['all', 'rules', 'detectors', 'identity', 'content'];
const ONLY = { identity: (d) => d.id === 'tapwire.server-identity', content: (d) => d.id.startsWith('tapwire.content-') };
const mode = process.argv[2] ?? 'all';
if (!MODES.includes(mode)) throw new Error(`mode must be one of ${MODES.join(', ')} (got ${mode})`);
const sessions = Number(process.argv[3] ?? 3000);
const lines = workload(sessions, Math.max(1, Math.floor(sessions / 10))).map((e) => JSON.stringify(e));
const cpuSeconds = (since) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

let since = process.cpuUsage();
for (const line of lines) JSON.parse(line);
const parseSeconds = cpuSeconds(since);

const detectors = mode === 'rules' ? [] : createDetectors().filter(ONLY[mode] ?? (() => true));
const rules = mode === 'all' || mode === 'rules' ? RuleSet.load(rulesDir) : undefined;
const state = new EmbeddedStateStore(':memory:');
const runtime = new DetectorRuntime(state, { detectors, rules, reorderLatenessMs: 2000 });
since = process.cpuUsage();
let alerts = 0;
for (let i = 0; i < lines.length; i += 1000) {
  const batch = runtime.batch();
  alerts += batch.process(lines.slice(i, i + 1000).map((line) => JSON.parse(line))).length;
  batch.commit();
}
const end = runtime.batch();
alerts += end.release().length;
end.commit();
const seconds = cpuSeconds(since);
state.close();
process.stdout.write(`${JSON.stringify({ mode, events: lines.length, alerts, perCpuSecond: Math.round(lines.length / seconds), jsonParsePerCpuSecond: Math.round(lines.length / parseSeconds), ofJsonParse: Number((parseSeconds / seconds).toFixed(3)) })}\n`);
