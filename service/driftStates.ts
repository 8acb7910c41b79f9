/**
 * Where the tool-drift ledgers a reviewer decides on live: the home's state.sqlite when the embedded worker runs
 * detection, the state files of the serverEvents partitions when group members do (tapwire.yaml selects Kafka or
 * Elasticsearch; drift state is per server, so each server's ledger sits in the file of the partition its identity
 * hashes to), or a replay's state directory. `tapwire approve` and the console decide through here, so a decision
 * lands in the file the worker that owns the server reads.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decideChanges, knownServers, pendingChanges, type ServerChanges } from '../detectors/drift/driftApproval.js';
import type { DecisionKind } from '../detectors/drift/driftLedger.js';
import { EmbeddedStateStore } from '../detectors/embeddedStateStore.js';
import type { StateStore } from '../detectors/stateStore.js';
import { TOPICS } from '../pipeline/bus.js';
import { loadConfig } from '../pipeline/config.js';
import { resolveHome } from '../pipeline/home.js';
import { partitionStateDir } from './groupDetector.js';

export interface DriftStateChoice {
  home?: string;
  /** tapwire.yaml (default: $TAPWIRE_CONFIG, else <home>/tapwire.yaml): says whether group members run detection. */
  config?: string;
  /** A replay's state directory instead of the home. */
  stateDir?: string;
}

/** A server's pending changes and the state file its ledger is in. */
export interface LocatedChanges {
  state: StateStore;
  server: ServerChanges;
}

/** The state files holding drift ledgers for the choice (none before detection has run), and where they are looked for. */
function driftStateFiles(choice: DriftStateChoice): { files: string[]; where: string } {
  if (choice.stateDir !== undefined) return existing([join(choice.stateDir, 'state.sqlite')], join(choice.stateDir, 'state.sqlite'));
  const config = loadConfig({ ...(choice.config === undefined ? {} : { file: choice.config }), ...(choice.home === undefined ? {} : { home: choice.home }) });
  const home = resolveHome(choice.home ?? config.home);
  if (config.bus === 'embedded' && config.store === 'embedded') return existing([home.state], home.state);
  const dir = partitionStateDir(home);
  const prefix = `${TOPICS.serverEvents}.`;
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.sqlite')).sort().map((f) => join(dir, f)) : [];
  return existing(files, `${dir}/${prefix}*.sqlite`);
}

function existing(files: string[], where: string): { files: string[]; where: string } {
  return { files: files.filter((f) => existsSync(f)), where };
}

/** The drift ledgers of every state file of a choice, open until close(). */
export class DriftStates {
  private constructor(readonly states: readonly EmbeddedStateStore[]) {}

  /**
   * Opens every state file the choice names. Throws, naming where it looked, when there is none yet, unless `none`
   * is 'empty' (the console shows an empty review before detection has run).
   */
  static open(choice: DriftStateChoice, none: 'throw' | 'empty' = 'throw'): DriftStates {
    const { files, where } = driftStateFiles(choice);
    if (files.length === 0 && none === 'throw') throw new Error(`no detector state at ${where} (run 'tapwire detect', 'tapwire up' or 'tapwire replay --state DIR' first)`);
    return new DriftStates(files.map((file) => new EmbeddedStateStore(file)));
  }

  /** Pending changes of every server `server` names (or every server), optionally one item, with the file of each. */
  pending(server?: string, item?: string): LocatedChanges[] {
    return this.states.flatMap((state) => pendingChanges(state, server, item).map((changes) => ({ state, server: changes })));
  }

  /** Every server drift detection knows, for error messages. */
  knownServers(): string[] {
    return this.states.flatMap((state) => knownServers(state));
  }

  /** Records `decision` for each change, each in its own file's transaction; returns how many were recorded. */
  decide(located: readonly LocatedChanges[], decision: DecisionKind, at: string): number {
    return this.states.reduce((count, state) => count + decideChanges(state, located.filter((l) => l.state === state).map((l) => l.server), decision, at), 0);
  }

  close(): void {
    for (const state of this.states) state.close();
  }
}

/** Runs `work` on a choice's drift states, opened for it alone (none before detection has run), and closes them. */
export async function withDriftStates<T>(choice: DriftStateChoice, work: (states: DriftStates) => T | Promise<T>): Promise<T> {
  const states = DriftStates.open(choice, 'empty');
  try {
    return await work(states);
  } finally {
    states.close();
  }
}
