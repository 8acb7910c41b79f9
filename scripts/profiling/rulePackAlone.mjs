#!/usr/bin/env node
/**
 * The rule pack's own cost (issue 13): RuleSet.evaluate over the detectors benchmark workload, already decoded, no
 * runtime and no detectors, for two builds in one process, alternating rounds (CPU time of this process, so other
 * work on a shared machine slows both alike). Each round compiles a fresh pack; caches kept at module level (text
 * normalization) stay warm across rounds, as they would in a long-running worker.
 *
 *   npm run build && node scripts/profiling/rulePackAlone.mjs BASE_DIST [SESSIONS] [ROUNDS]
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './median.mjs';

const newDist = fileURLToPath(new URL('../../dist', import.meta.url));
const baseDist = process.argv[2];
if (baseDist === undefined) throw new Error('usage: rulePackAlone.mjs BASE_DIST [SESSIONS] [ROUNDS]');
const sessions = Number(process.argv[3] ?? 2000);
const rounds = Number(process.argv[4] ?? 6);
const rulesDir = fileURLToPath(new URL('../../rules', import.meta.url));
const { workload } = await import(join(newDist, 'bench/detectors.bench.js'));
// The issue states the goal against bare JSON.parse of the same events (the pack at >= ~0.4x of it), measured each round.
const lines = workload(sessions, Math.max(1, Math.floor(sessions / 10))).map((event) => JSON.stringify(event));
// Decoded as the workers decode bus records (this build's codec, outside the timing): both builds read the same objects.
const { decodeEvent } = await import(join(newDist, 'pipeline/recordCodec.js'));
const events = lines.map((line) => decodeEvent(line).event);
const parseMicros = [];
const builds = [];
for (const [name, dist] of [['base', baseDist], ['new', newDist]]) builds.push({ name, RuleSet: (await import(join(dist, 'detectors/sigma/ruleSet.js'))).RuleSet, micros: [] });

const cpuMicros = (since) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};
let alerts;
for (let round = 0; round < rounds; round++) {
  const parsing = process.cpuUsage();
  for (const line of lines) JSON.parse(line);
  parseMicros.push(cpuMicros(parsing));
  for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
    const rules = build.RuleSet.load(rulesDir);
    const since = process.cpuUsage();
    let raised = 0;
    for (const event of events) raised += rules.evaluate(event).length;
    raised += rules.flush().length;
    build.micros.push(cpuMicros(since));
    if (alerts !== undefined && raised !== alerts) throw new Error(`${build.name} raised ${raised} alerts, the other build ${alerts}`);
    alerts = raised;
  }
}
const best = (build) => Math.min(...build.micros);
const [base, fresh] = builds;
process.stdout.write(
  `${JSON.stringify({
    events: events.length,
    alerts,
    rounds,
    baseMicrosPerEvent: Number((best(base) / events.length).toFixed(2)),
    newMicrosPerEvent: Number((best(fresh) / events.length).toFixed(2)),
    basePerCpuSecond: Math.round((events.length * 1e6) / best(base)),
    newPerCpuSecond: Math.round((events.length * 1e6) / best(fresh)),
    newTimeOfBase: Number((best(fresh) / best(base)).toFixed(3)),
    // On a contended machine the best round flatters whichever build was lucky; the medians are the sturdier figure.
    baseMedianPerCpuSecond: Math.round((events.length * 1e6) / median(base.micros)),
    newMedianPerCpuSecond: Math.round((events.length * 1e6) / median(fresh.micros)),
    newMedianTimeOfBase: Number((median(fresh.micros) / median(base.micros)).toFixed(3)),
    jsonParseMedianPerCpuSecond: Math.round((events.length * 1e6) / median(parseMicros)),
    baseOfJsonParse: Number((median(parseMicros) / median(base.micros)).toFixed(3)),
    newOfJsonParse: Number((median(parseMicros) / median(fresh.micros)).toFixed(3)),
    // Per round, new time / base time: the spread shows how far this machine's noise reaches.
    roundRatios: base.micros.map((micros, round) => Number((fresh.micros[round] / micros).toFixed(3))),
  })}\n`,
);
