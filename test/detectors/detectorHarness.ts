/**
 * Runs detectors the way workers do: through the real DetectorRuntime (batches over a StateBatch,
 * event-time ticks) on a real SQLite state file in a temp directory. Also counts state rows, so tests
 * can check that state stays bounded by entries, not by time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { Detector } from '../../detectors/detector.js';
import { DetectorRuntime, type RuleEvaluator } from '../../detectors/detectorRuntime.js';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import { checkAlert } from '../../pipeline/schemaValidator.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

/** A state file in a fresh temp directory. */
export interface TempState {
  state: EmbeddedStateStore;
  file: string;
  /** Closes the store and removes the directory. */
  close(): void;
}

/** Opens an EmbeddedStateStore on a new file in the temp directory. */
export function openTempState(): TempState {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-detectors-'));
  const file = join(dir, 'state.sqlite');
  const state = new EmbeddedStateStore(file);
  return {
    state,
    file,
    close: () => {
      state.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How a run batches and ticks. */
export interface RunOptions {
  /** Event time between onTick rounds (the runtime's default is 60 s). */
  tickIntervalMs?: number;
  /** Events per committed batch. */
  batchSize?: number;
  /** Event-time lateness the runtime's reorder buffer waits for (live workers use 2 s; 0 keeps arrival order). */
  reorderLatenessMs?: number;
  /** The rule pack, run before the detectors as live workers do (default: none). */
  rules?: RuleEvaluator;
}

/** Runs `events` through `detectors` on `state`; returns every alert, in order. Detector errors fail the run. */
export function runDetectors(detectors: readonly Detector[], events: readonly McpEvent[], state: EmbeddedStateStore, options: RunOptions = {}): McpAlert[] {
  const errors: string[] = [];
  const runtime = new DetectorRuntime(state, {
    detectors,
    rules: options.rules,
    tickIntervalMs: options.tickIntervalMs ?? 60_000,
    reorderLatenessMs: options.reorderLatenessMs ?? 0,
    onDetectorError: (error, id, event) => errors.push(`${id} on ${event?.event.id ?? 'tick'}: ${error.stack ?? error.message}`),
  });
  const alerts: McpAlert[] = [];
  const size = options.batchSize ?? 256;
  for (let i = 0; i < events.length; i += size) {
    const batch = runtime.batch();
    alerts.push(...batch.process(events.slice(i, i + size)));
    batch.commit();
  }
  const end = runtime.batch();
  alerts.push(...end.release());
  end.commit();
  if (errors.length > 0) throw new Error(`detectors failed:\n${errors.join('\n')}`);
  return alerts;
}

/** Runs `events` on a fresh temp state and removes it afterwards. */
export function runFresh(detectors: readonly Detector[], events: readonly McpEvent[], options: RunOptions = {}): McpAlert[] {
  const temp = openTempState();
  try {
    return runDetectors(detectors, events, temp.state, options);
  } finally {
    temp.close();
  }
}

/** Runs `events` on a fresh temp state and checks every alert against the alert schema. */
export function runChecked(detectors: readonly Detector[], events: readonly McpEvent[]): McpAlert[] {
  const alerts = runFresh(detectors, events);
  for (const alert of alerts) expect(checkAlert(alert).errors).toEqual([]);
  return alerts;
}

/** The one alert of `ruleId` among `alerts` (fails the test when there is not exactly one). */
export function onlyAlert(alerts: readonly McpAlert[], ruleId: string): McpAlert {
  const found = alerts.filter((a) => a.rule.id === ruleId);
  expect(found, `one ${ruleId} among ${ruleIds(alerts).join(', ')}`).toHaveLength(1);
  return found[0]!;
}

/** Rows in the state file whose namespace starts with `prefix`. */
export function stateRows(file: string, prefix: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT COUNT(*) FROM state WHERE substr(namespace, 1, length(?)) = ?").pluck().get(prefix, prefix) as number);
  } finally {
    db.close();
  }
}

/** The rule ids of `alerts`, sorted. */
export function ruleIds(alerts: readonly McpAlert[]): string[] {
  return alerts.map((a) => a.rule.id).sort();
}
