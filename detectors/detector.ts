/**
 * The contract of a stateful detector. A detector sees events in order, keeps its memory only in
 * the StateStore, and returns alerts; it never reads clocks, files or the network itself, so the
 * same detector gives the same alerts live, on Kafka, and in replay.
 */
import type { McpAlert } from '../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import type { SharedEventWork } from './sharedEventWork.js';
import type { StateStore } from './stateStore.js';

/** How a detector's state is partitioned: by the event's host session, or by its server identity. */
export type PartitionBy = 'host_session' | 'server';

export interface DetectorContext {
  state: StateStore;
  /** Event time of the event being processed (epoch ms): detectors use it, never Date.now(). */
  now: number;
  /** Work on this event shared with the rule engine and the other detectors (texts, normalization), done once. */
  shared: SharedEventWork;
}

export interface Detector {
  /** Stable id, also the rule.id prefix of its alerts (e.g. "tapwire.tool-drift"). */
  readonly id: string;
  readonly partitionBy: PartitionBy;
  /** Processes one event; returns the alerts it raises (deterministic fingerprints). */
  onEvent(event: McpEvent, context: DetectorContext): McpAlert[];
  /** Scheduled work (baseline roll-ups, window expiry) at event time `context.now`. */
  onTick?(context: DetectorContext): McpAlert[];
}

/** The partition key of an event for a detector. */
export function partitionOf(event: McpEvent, by: PartitionBy): string {
  return by === 'server' ? event.mcp.server.id : (event.mcp.host_session?.id ?? event.mcp.session.id);
}
