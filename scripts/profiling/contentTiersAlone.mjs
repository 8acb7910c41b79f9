#!/usr/bin/env node
/**
 * The content tiers' own cost (issue 13): the detectors benchmark workload, parsed before timing, through a runtime
 * holding only the tier-1 structural detector and/or the learned tier, for two builds in one process, alternating
 * rounds (CPU time of this process). Each round starts with an empty reading cache (forgetReadings) and fresh state,
 * so every text is read for the first time, as in one pass of detectorsReplay.mjs; the first two rounds also pay for
 * compiling the cue patterns and warming the JIT, which a long-running worker pays once.
 *
 *   npm run build && node scripts/profiling/contentTiersAlone.mjs BASE_DIST [SESSIONS] [ROUNDS] [content|model|structure]
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const newDist = fileURLToPath(new URL('../../dist', import.meta.url));
const [baseDist, sessionsArg, roundsArg, mode = 'content'] = process.argv.slice(2);
if (baseDist === undefined) throw new Error('usage: contentTiersAlone.mjs BASE_DIST [SESSIONS] [ROUNDS] [content|model|structure]');
const TIERS = { content: ['tapwire.content-structure', 'tapwire.content-model'], model: ['tapwire.content-model'], structure: ['tapwire.content-structure'] };
if (!(mode in TIERS)) throw new Error(`mode must be one of ${Object.keys(TIERS).join(', ')}`);
const sessions = Number(sessionsArg ?? 3000);
const rounds = Number(roundsArg ?? 10);
const { workload } = await import(join(newDist, 'bench/detectors.bench.js'));
const lines = workload(sessions, Math.max(1, Math.floor(sessions / 10))).map((e) => JSON.stringify(e));
const builds = [];
for (const [name, dist] of [['base', baseDist], ['new', newDist]]) {
  const at = (path) => import(join(dist, path));
  builds.push({
    name,
    DetectorRuntime: (await at('detectors/detectorRuntime.js')).DetectorRuntime,
    EmbeddedStateStore: (await at('detectors/embeddedStateStore.js')).EmbeddedStateStore,
    createDetectors: (await at('detectors/registry.js')).createDetectors,
    forgetReadings: (await at('detectors/content/textReadings.js')).forgetReadings,
    micros: [],
  });
}

let alerts;
for (let round = 0; round < rounds; round++) {
  for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
    build.forgetReadings();
    const events = lines.map((line) => JSON.parse(line));
    const state = new build.EmbeddedStateStore(':memory:');
    const runtime = new build.DetectorRuntime(state, { detectors: build.createDetectors().filter((d) => TIERS[mode].includes(d.id)), reorderLatenessMs: 2000 });
    const since = process.cpuUsage();
    let raised = 0;
    for (let i = 0; i < events.length; i += 1000) {
      const batch = runtime.batch();
      raised += batch.process(events.slice(i, i + 1000)).length;
      batch.commit();
    }
    const end = runtime.batch();
    raised += end.release().length;
    end.commit();
    const used = process.cpuUsage(since);
    build.micros.push(used.user + used.system);
    state.close();
    if (alerts !== undefined && raised !== alerts) throw new Error(`${build.name} raised ${raised} alerts, the other build ${alerts}`);
    alerts = raised;
  }
}
const perCpuSecond = (micros) => Math.round((lines.length * 1e6) / micros);
const middle = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const [base, fresh] = builds;
for (let r = 0; r < rounds; r++) process.stdout.write(`round ${r + 1}: base ${perCpuSecond(base.micros[r])}, new ${perCpuSecond(fresh.micros[r])} events/CPU-s, new/base time ${(fresh.micros[r] / base.micros[r]).toFixed(3)}\n`);
process.stdout.write(`${JSON.stringify({ mode, events: lines.length, alerts, rounds, baseMedianPerCpuSecond: perCpuSecond(middle(base.micros)), newMedianPerCpuSecond: perCpuSecond(middle(fresh.micros)), newMedianTimeOfBase: Number((middle(fresh.micros) / middle(base.micros)).toFixed(3)) })}\n`);
