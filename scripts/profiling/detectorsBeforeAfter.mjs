#!/usr/bin/env node
/**
 * Before and after, in one run (issue 13): the detectors benchmark workload replayed by two builds, each round in
 * fresh processes (detectorsReplay.mjs) alternating their order, for the rule pack alone and for the full stack
 * (rule pack, every stateful detector, both content tiers). Both builds replay the events the new build's workload
 * makes, with this checkout's rules/; each loads its own shipped content model, so the learned tier's alerts differ
 * where the model was retrained between them (the alert count is printed per build; the speed work's own guard is
 * test/detectors/alertEquivalence.test.ts). Rates are events per CPU-second of
 * the replaying process (JSON.parse included), so other work on a shared machine slows both builds alike; each
 * process also times bare JSON.parse of the same lines, the yardstick.
 *
 *   npm run build && node scripts/profiling/detectorsBeforeAfter.mjs BASE_DIST [SESSIONS] [ROUNDS]
 *
 * Prints a Markdown table of medians (and the per-round ratios) for BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './median.mjs';

const [baseDist, sessionsArg = '3000', roundsArg = '5'] = process.argv.slice(2);
if (baseDist === undefined) throw new Error('usage: detectorsBeforeAfter.mjs BASE_DIST [SESSIONS] [ROUNDS]');
const newDist = fileURLToPath(new URL('../../dist', import.meta.url));
const replay = fileURLToPath(new URL('./detectorsReplay.mjs', import.meta.url));
const builds = [
  { name: 'before', dist: baseDist },
  { name: 'after', dist: newDist },
];
const modes = ['rules', 'all'];

function run(build, mode) {
  const out = execFileSync(process.execPath, [replay, mode, sessionsArg], { env: { ...process.env, DIST: build.dist, WORKLOAD_DIST: newDist }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1));
}

const results = new Map(modes.flatMap((mode) => builds.map((build) => [`${mode}:${build.name}`, []])));
for (let round = 0; round < Number(roundsArg); round++) {
  for (const mode of modes) {
    for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
      const result = run(build, mode);
      results.get(`${mode}:${build.name}`).push(result);
      process.stderr.write(`round ${round + 1} ${mode} ${build.name}: ${result.perCpuSecond} events/CPU-s, ${result.alerts} alerts\n`);
    }
  }
}

const format = (n) => Math.round(n).toLocaleString('en-US');
console.log('| run | before, events/CPU-s | after, events/CPU-s | after / before (per round) | bare JSON.parse, events/CPU-s | after / JSON.parse | alerts, before / after |');
console.log('|---|---|---|---|---|---|---|');
for (const mode of modes) {
  const before = results.get(`${mode}:before`);
  const after = results.get(`${mode}:after`);
  const alerts = [...new Set(before.map((r) => r.alerts))].join('/') + ' / ' + [...new Set(after.map((r) => r.alerts))].join('/');
  const ratios = after.map((r, i) => (r.perCpuSecond / before[i].perCpuSecond).toFixed(2));
  const parse = median([...before, ...after].map((r) => r.jsonParsePerCpuSecond));
  const [beforeRate, afterRate] = [before, after].map((runs) => median(runs.map((r) => r.perCpuSecond)));
  const label = mode === 'rules' ? 'rule pack alone' : 'full stack (rule pack + 11 detectors, learned tier on)';
  console.log(`| ${label} | ${format(beforeRate)} | ${format(afterRate)} | **${(afterRate / beforeRate).toFixed(2)}×** (${ratios.join(', ')}) | ${format(parse)} | ${(afterRate / parse).toFixed(3)}× | ${alerts} |`);
}
