/**
 * Alert equivalence (issue 13): speed work must not change what is detected. The detectors benchmark workload and
 * every scenario corpus under test/corpus are replayed through the full stack (rule pack + stateful detectors +
 * learned tier, see alertEquivalenceWorkloads.ts) and each workload's alerts — per rule, the count and a hash of
 * the sorted fingerprints — must equal test/detectors/fixtures/alert-fingerprints.golden.txt.
 *
 * The golden file was generated from the code before the issue-13 optimizations (main at a36625d, which has none of
 * them: the test and workload files copied into a worktree of main, `npm run golden:alerts` run there).
 * When detection changes on purpose (a rule, a detector, the learned model), regenerate it and review the diff:
 *
 *   npm run golden:alerts        # = UPDATE_ALERT_GOLDEN=1 vitest run test/detectors/alertEquivalence.test.ts
 *
 * A regeneration in a pure speed change is a red flag: the diff names the rules whose alerts changed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { equivalenceWorkloads, fingerprintSummary, goldenText, replayFullStack } from './alertEquivalenceWorkloads.js';

const GOLDEN = fileURLToPath(new URL('./fixtures/alert-fingerprints.golden.txt', import.meta.url));
const REPLAY_TIMEOUT_MS = 15 * 60_000;

/** Workload name → its summary lines, from the golden file. */
function goldenSections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  for (const block of text.split(/\n\n/)) {
    const [header, ...lines] = block.trim().split('\n');
    if (header === undefined || !header.startsWith('## ')) throw new Error(`${GOLDEN}: a section must start with '## workload' (got '${header}')`);
    sections.set(header.slice(3), lines);
  }
  return sections;
}

const workloads = equivalenceWorkloads();

if (process.env.UPDATE_ALERT_GOLDEN === '1') {
  describe('alert equivalence golden file', () => {
    it('is regenerated from the current code', { timeout: REPLAY_TIMEOUT_MS }, async () => {
      const text = await goldenText(workloads);
      writeFileSync(GOLDEN, text);
      expect(goldenSections(text).size).toBe(workloads.length);
    });
  });
} else {
  describe('alert equivalence with the golden fingerprints', () => {
    const golden = existsSync(GOLDEN) ? goldenSections(readFileSync(GOLDEN, 'utf8')) : new Map<string, string[]>();

    it('covers exactly the current workloads, and the benchmark and malicious corpora raise alerts', () => {
      expect([...golden.keys()].sort(), `${GOLDEN} is stale: run npm run golden:alerts`).toEqual(workloads.map((w) => w.name).sort());
      expect(golden.get('bench/detectors workload')?.length).toBeGreaterThan(0);
      for (const [name, lines] of golden) if (name.startsWith('test/corpus/malicious/')) expect(lines.length, name).toBeGreaterThan(0);
    });

    it.each(workloads.map((w) => [w.name, w] as const))('%s raises the golden alerts', { timeout: REPLAY_TIMEOUT_MS }, async (name, workload) => {
      const alerts = (await workload.runs()).flatMap((events) => replayFullStack(events, workload.settings));
      expect(fingerprintSummary(alerts)).toEqual(golden.get(name));
    });
  });
}
