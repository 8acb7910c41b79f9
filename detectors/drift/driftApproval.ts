/**
 * `tapwire approve`'s side of drift: find a server's pending changes by server name or identity (and optionally one
 * item), show the reviewer what changed, and record an approval or rejection of exactly the definition each change
 * presented. The detector applies the decision when the server next presents that definition: approved, it becomes
 * the pin and stops alerting; rejected, the old pin stays and each serving of the definition alerts as known-bad.
 */
import type { StateStore } from '../stateStore.js';
import { diffDefinitions, type DefinitionDiff } from './definitionDiff.js';
import { DriftLedger, type DecisionKind, type PendingChange } from './driftLedger.js';
import { approvalItem } from './toolDriftDetector.js';

/** One server's pending changes. */
export interface ServerChanges {
  serverId: string;
  serverName: string;
  changes: PendingChange[];
}

/** Whether `server` names the ledger's server: its identity, configured name or reported name. */
function names(ledger: DriftLedger, server: string): boolean {
  const profile = ledger.profile();
  return ledger.serverId === server || profile?.name === server || profile?.reportedName === server;
}

/** Pending changes (without a decision yet) of every server `server` names, or of every server; optionally one item. */
export function pendingChanges(state: StateStore, server?: string, item?: string): ServerChanges[] {
  const found: ServerChanges[] = [];
  for (const ledger of DriftLedger.all(state)) {
    if (server !== undefined && !names(ledger, server)) continue;
    const changes = ledger
      .pendingChanges()
      .filter((c) => item === undefined || item === c.name || item === c.key || item === approvalItem(c.kind, c.name))
      .filter((c) => ledger.decision(c.key, c.hash) === undefined);
    found.push({ serverId: ledger.serverId, serverName: ledger.profile()?.name ?? ledger.serverId, changes });
  }
  return found;
}

/** The names of every server drift detection knows, for error messages. */
export function knownServers(state: StateStore): string[] {
  return DriftLedger.all(state).map((ledger) => ledger.profile()?.name ?? ledger.serverId);
}

/** Records `decision` for each change, in one transaction; returns how many were recorded. */
export function decideChanges(state: StateStore, servers: readonly ServerChanges[], decision: DecisionKind, at: string): number {
  return state.transaction(() => {
    let count = 0;
    for (const server of servers) {
      const ledger = new DriftLedger(state, server.serverId);
      for (const change of server.changes) {
        ledger.decide(change.key, change.hash, { decision, at });
        count += 1;
      }
    }
    return count;
  });
}

/** The diff between a pending change's pinned definition and the one the server presented, for review. */
export function pendingChangeDiff(state: StateStore, serverId: string, change: PendingChange): DefinitionDiff {
  return diffDefinitions(change.name, new DriftLedger(state, serverId).pin(change.key), change.presented);
}
