/**
 * The fleet view of tool drift: one server identity serving different definitions of a tool to different hosts or
 * clients at the same time — targeted poisoning, which no single host's pins can show. Each (host, client) keeps its
 * latest presentation per tool. Two observers whose latest presentations differ within the window are a mismatch
 * only when the server cannot have simply been upgraded between them: the hash shown now was already in circulation
 * before the other observer was shown its different one. An upgrade seen by the fleet in order never alerts here
 * (the tool-changed alert covers it); a server that keeps serving both versions does.
 */
import { alertContextOf, alertSourceOf, buildAlert } from '../alertBuilder.js';
import { partitionOf, type Detector, type DetectorContext } from '../detector.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { DRIFT_RULES } from './driftRules.js';
import { listingOf } from './pinnedDefinition.js';

export interface FleetViewOptions {
  /** How close in event time two presentations must be to count as "at the same time" (default 1 h). */
  windowMs?: number;
  /** Observers (host, client) remembered per tool (default 256; the least recent is forgotten). */
  maxObservers?: number;
}

interface Presentation {
  hash: string;
  at: number;
  eventId: string;
  host: string;
  client: string;
}

/** One tool of one server across the fleet. */
interface ToolFleet {
  observers: Record<string, Presentation>;
  /** Event time each hash was first presented anywhere. */
  firstSeen: Record<string, number>;
  /** Hash pair → no new alert before this time. */
  quietUntil: Record<string, number>;
}

const NS = 'drift.fleet';
const MAX_HASHES = 64;

function newest<T>(record: Record<string, T>, limit: number, time: (value: T) => number): Record<string, T> {
  const kept = Object.entries(record).sort(([, a], [, b]) => time(b) - time(a)).slice(0, limit);
  return Object.fromEntries(kept);
}

/** Compares each tools/list with what other hosts and clients are shown (partitioned by server identity). */
export class FleetViewDetector implements Detector {
  readonly id = DRIFT_RULES.fleetMismatch.id;
  readonly partitionBy = 'server' as const;
  private readonly windowMs: number;
  private readonly maxObservers: number;

  /** Options are fixed for the detector's life. */
  constructor(options: FleetViewOptions = {}) {
    this.windowMs = options.windowMs ?? 3_600_000;
    this.maxObservers = options.maxObservers ?? 256;
  }

  /** Records a tools/list presentation and alerts on tools served in two versions at once. */
  onEvent(event: McpEvent, { state, now }: DetectorContext): McpAlert[] {
    const listing = listingOf(event);
    if (listing?.kind !== 'tool') return [];
    const partition = partitionOf(event, 'server');
    const host = event.host.hostname;
    const client = event.mcp.client?.name ?? '';
    const observer = `${host}\u0000${client}`;
    const alerts: McpAlert[] = [];
    for (const tool of listing.items) {
      const fleet = state.get<ToolFleet>(partition, NS, tool.name) ?? { observers: {}, firstSeen: {}, quietUntil: {} };
      const firstSeen = { ...fleet.firstSeen, [tool.hash]: Math.min(fleet.firstSeen[tool.hash] ?? now, now) };
      const quietUntil = { ...fleet.quietUntil };
      for (const [key, other] of Object.entries(fleet.observers)) {
        if (key === observer || other.hash === tool.hash || other.at <= now - this.windowMs) continue;
        if ((firstSeen[tool.hash] ?? now) >= other.at) continue;
        const pair = [tool.hash, other.hash].sort().join('|');
        if ((quietUntil[pair] ?? 0) > now) continue;
        quietUntil[pair] = now + this.windowMs;
        alerts.push(this.alert(event, tool.name, tool.hash, other));
      }
      const observers = newest({ ...fleet.observers, [observer]: { hash: tool.hash, at: now, eventId: event.event.id, host, client } }, this.maxObservers, (p) => p.at);
      state.put(partition, NS, tool.name, {
        observers,
        firstSeen: newest(firstSeen, MAX_HASHES, (t) => t),
        quietUntil: Object.fromEntries(Object.entries(quietUntil).filter(([, until]) => until > now)),
      } satisfies ToolFleet);
    }
    return alerts;
  }

  private alert(event: McpEvent, tool: string, hash: string, other: Presentation): McpAlert {
    const server = event.mcp.server.name;
    const here = `${event.host.hostname}${event.mcp.client?.name ? ` / ${event.mcp.client.name}` : ''}`;
    const there = `${other.host}${other.client ? ` / ${other.client}` : ''}`;
    return buildAlert({
      rule: DRIFT_RULES.fleetMismatch,
      context: { ...alertContextOf(event), toolName: tool },
      sources: [alertSourceOf(event), { id: other.eventId, timestamp: new Date(other.at).toISOString() }],
      discriminator: tool,
      message: `MCP server "${server}" (${event.mcp.server.id}) serves two versions of tool "${tool}" at once: sha256 ${hash.slice(0, 12)}… to ${here}, ${other.hash.slice(0, 12)}… to ${there}`,
      details: { fleet: { tool, presented: { hash, host: event.host.hostname, client: event.mcp.client?.name ?? null }, other: { hash: other.hash, host: other.host, client: other.client || null, at: new Date(other.at).toISOString() } } },
    });
  }
}
