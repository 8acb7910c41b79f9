import { describe, expect, it } from 'vitest';
import { DetectorRuntime } from '../../detectors/detectorRuntime.js';
import { DRIFT_RULES } from '../../detectors/drift/driftRules.js';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import { IDENTITY_RULES } from '../../detectors/inventory/identityRules.js';
import { createDetectors } from '../../detectors/registry.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { loadScenarios, type Scenario } from './scenarioCorpus.js';
import { scriptEvents } from './sessionScript.js';

/** The detectors measured here, each with the rules it raises. */
const MEASURED: { detector: string; rules: string[] }[] = [
  { detector: 'tool drift', rules: [DRIFT_RULES.toolAdded, DRIFT_RULES.toolChanged, DRIFT_RULES.toolRemoved, DRIFT_RULES.instructionsChanged, DRIFT_RULES.descriptionChanged, DRIFT_RULES.renameEvasion].map((r) => r.id) },
  { detector: 'list_changed storms', rules: [DRIFT_RULES.listChangedStorm.id] },
  { detector: 'fleet view', rules: [DRIFT_RULES.fleetMismatch.id] },
  { detector: 'unknown / impersonating servers', rules: [IDENTITY_RULES.unknownServer, IDENTITY_RULES.knownNameOtherCommand, IDENTITY_RULES.versionMismatch, IDENTITY_RULES.lookalikeName, IDENTITY_RULES.versionChanged].map((r) => r.id) },
  { detector: 'server sightings (first sight, new host)', rules: [IDENTITY_RULES.firstSight.id, IDENTITY_RULES.newHost.id] },
];
const MEASURED_RULES = new Set(MEASURED.flatMap((m) => m.rules));

/** Runs a scenario as the live worker would (all registered detectors, event-time reordering, end of input). */
function run(scenario: Scenario): Record<string, number> {
  const state = new EmbeddedStateStore(':memory:');
  try {
    const runtime = new DetectorRuntime(state, { detectors: createDetectors({ inventory: scenario.inventory }), reorderLatenessMs: 2000, onDetectorError: (error) => { throw error; } });
    const batch = runtime.batch();
    const alerts: McpAlert[] = [...batch.process(scriptEvents(`${scenario.name}.ndjson`, scenario.sessions)), ...batch.release()];
    const counts: Record<string, number> = {};
    for (const alert of alerts) if (MEASURED_RULES.has(alert.rule.id)) counts[alert.rule.id] = (counts[alert.rule.id] ?? 0) + 1;
    return counts;
  } finally {
    state.close();
  }
}

describe('stateful detector scenarios (test/corpus/scenarios)', () => {
  const scenarios = loadScenarios();
  const results = new Map(scenarios.map((s) => [s.name, run(s)]));

  it.each(scenarios.map((s) => [s.name, s] as const))('%s raises exactly the alerts it expects', (_name, scenario) => {
    expect(results.get(scenario.name)).toEqual(scenario.expect);
  });

  it('has malicious scenarios for every measured detector and hard negatives, and reports recall and false positives', () => {
    const rows = MEASURED.map(({ detector, rules }) => {
      let expected = 0;
      let detected = 0;
      let falsePositives = 0;
      let malicious = 0;
      let benign = 0;
      for (const scenario of scenarios) {
        const got = results.get(scenario.name) ?? {};
        const expects = rules.some((r) => (scenario.expect[r] ?? 0) > 0);
        if (scenario.label === 'malicious' && expects) malicious += 1;
        if (scenario.label === 'benign') benign += 1;
        for (const rule of rules) {
          const e = scenario.expect[rule] ?? 0;
          const p = got[rule] ?? 0;
          expected += e;
          detected += Math.min(e, p);
          falsePositives += Math.max(0, p - e);
        }
      }
      return { detector, malicious, benign, expected, detected, falsePositives };
    });
    const table = [
      '| detector | malicious scenarios | hard negatives | expected alerts | raised | recall | false positives |',
      '|---|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.detector} | ${r.malicious} | ${r.benign} | ${r.expected} | ${r.detected} | ${r.expected === 0 ? '–' : `${Math.round((r.detected / r.expected) * 100)}%`} | ${r.falsePositives} |`),
    ].join('\n');
    process.stdout.write(`\n${table}\n`);
    for (const row of rows.slice(0, 4)) expect(row.malicious).toBeGreaterThan(0);
    expect(scenarios.filter((s) => s.label === 'benign').length).toBeGreaterThanOrEqual(5);
  });
});
