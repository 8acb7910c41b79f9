/**
 * The review of changed tool definitions: each pending change with its diff against the pin, and the decision,
 * recorded through the same drift-approval functions `tapwire approve` uses (approved, the definition becomes the
 * pin; rejected, the old pin stays and each serving of it alerts as known-bad), for exactly the definition (hash) the
 * reviewer saw — if the server has presented yet another version since, the decision is refused.
 */
import { pendingChangeDiff, pendingChanges } from '../../detectors/drift/driftApproval.js';
import { DriftLedger } from '../../detectors/drift/driftLedger.js';
import { approvalItem } from '../../detectors/drift/toolDriftDetector.js';
import type { StateStore } from '../../detectors/stateStore.js';
import type { DriftStates } from '../../service/driftStates.js';
import type { DecisionRequest, ReviewItem } from '../api/consoleApiTypes.js';
import { sideBySide } from './sideBySideDiff.js';

/** Every change waiting for a decision, with its diff, from every state file that holds drift ledgers. */
export function reviewItems(states: DriftStates): ReviewItem[] {
  return states.states.flatMap(stateReviewItems);
}

function stateReviewItems(state: StateStore): ReviewItem[] {
  return pendingChanges(state).flatMap((server) => {
    const ledger = new DriftLedger(state, server.serverId);
    return server.changes.map((change) => {
      const pin = ledger.pin(change.key);
      const item = approvalItem(change.kind, change.name);
      const review: ReviewItem = {
        server_id: server.serverId,
        server_name: server.serverName,
        key: change.key,
        item,
        kind: change.kind,
        name: change.name,
        change: change.change,
        hash: change.hash,
        first_seen: change.firstSeen,
        sessions: change.sessions,
        diff: sideBySide(pendingChangeDiff(state, server.serverId, change).unified),
        command: `tapwire approve ${server.serverName} ${item}`,
      };
      const pinnedHash = change.pinnedHash ?? pin?.hash;
      if (pinnedHash !== undefined) review.pinned_hash = pinnedHash;
      if (pin) review.pin_source = pin.source;
      return review;
    });
  });
}

export class DecisionConflict extends Error {}

/**
 * Records the decision on the one change it names, in the state file holding that server's ledger; throws
 * DecisionConflict when that change is no longer pending.
 */
export function decide(states: DriftStates, request: DecisionRequest, at: string): void {
  const located = states
    .pending(request.server_id, request.key)
    .filter((l) => l.server.serverId === request.server_id)
    .map((l) => ({ ...l, server: { ...l.server, changes: l.server.changes.filter((c) => c.key === request.key && c.hash === request.hash) } }));
  if (located.reduce((n, l) => n + l.server.changes.length, 0) !== 1) {
    throw new DecisionConflict(`no pending change ${request.key} presenting sha256:${request.hash.slice(0, 16)} on ${request.server_id} (decided already, or the server presented another version since: reload)`);
  }
  states.decide(located, request.decision, at);
}
