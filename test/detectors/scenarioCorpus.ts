/**
 * The multi-step scenarios of test/corpus/scenarios (see its README): sessions, an optional inventory, and the
 * exact alerts the stateful detectors under test must raise. Loaded with YAML merge keys, so sessions can share
 * their setup.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { parseInventory } from '../../detectors/inventory/inventoryFile.js';
import type { Inventory } from '../../detectors/inventory/inventory.js';
import type { ScriptedSession } from './sessionScript.js';

export const SCENARIO_DIR = fileURLToPath(new URL('../corpus/scenarios/', import.meta.url));

export interface Scenario {
  /** Path relative to the scenario directory. */
  name: string;
  description: string;
  label: 'malicious' | 'benign';
  inventory?: Inventory;
  sessions: ScriptedSession[];
  /** Rule id → alerts expected. */
  expect: Record<string, number>;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith('.yml') ? [path] : [];
  });
}

/** Every scenario under `dir`, sorted by name; a malformed file throws naming it. */
export function loadScenarios(dir = SCENARIO_DIR): Scenario[] {
  return files(dir)
    .sort()
    .map((file) => {
      const name = relative(dir, file);
      const doc = parse(readFileSync(file, 'utf8'), { merge: true }) as Partial<Scenario> & { inventory?: unknown };
      if (typeof doc.description !== 'string' || (doc.label !== 'malicious' && doc.label !== 'benign') || !Array.isArray(doc.sessions) || typeof doc.expect !== 'object' || doc.expect === null) {
        throw new Error(`${name}: a scenario needs description, label (malicious|benign), sessions and expect`);
      }
      const scenario: Scenario = { name, description: doc.description, label: doc.label, sessions: doc.sessions, expect: doc.expect };
      if (doc.inventory !== undefined) scenario.inventory = parseInventory(`${name}#inventory`, stringify(doc.inventory));
      return scenario;
    });
}
