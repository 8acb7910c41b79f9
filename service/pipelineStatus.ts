/**
 * What `tapwire status` reports, from whichever bus and store tapwire.yaml (or --store) selects: the bus depth and the
 * detector group's lag (the embedded log, or the Kafka cluster), each tap session's counters and losses from the
 * store, the collectors' spool depth (events waiting for an unreachable bus), and what to run next.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DiskSpool, type SpoolDepth } from '../collectors/spool/diskSpool.js';
import { TOPICS } from '../pipeline/bus.js';
import type { TapwireConfig } from '../pipeline/config.js';
import { EmbeddedBus, type BusDescription } from '../pipeline/embedded/embeddedBus.js';
import { resolveHome } from '../pipeline/home.js';
import { KafkaBus } from '../pipeline/kafka/kafkaBus.js';
import type { SessionSummary, Store } from '../pipeline/store.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import type { OpenedStore } from './configuredStore.js';

/** The detector worker's consumer group (tapwire detect / up, embedded or Kafka). */
export const DETECTORS_GROUP = 'detectors';

export type SessionState = 'ended' | 'open' | 'ended unrecorded';

export interface TapStatus {
  session: string;
  server: string;
  pid: number | undefined;
  state: SessionState;
  events: number;
  lastSeen: number;
  dropped: number;
  unobservedBytes: number;
}

export interface PipelineStatus {
  home: string;
  /** Which bus and store were read. */
  busKind: TapwireConfig['bus'];
  storeKind: TapwireConfig['store'];
  bus: BusDescription;
  detector: { group: string; running: boolean; lag: number };
  /** The collectors' spool of this home (the configured spool directory), or undefined when there is none. */
  spool: (SpoolDepth & { file: string }) | undefined;
  alerts: boolean;
  taps: TapStatus[];
  dropped: number;
  next: string[];
}

/**
 * A session without a recorded end is open while its server runs; once the server (the tap's child, on this machine)
 * is gone, its end was never recorded (the tap was killed, or the disk was full).
 */
function sessionState(session: SessionSummary): SessionState {
  if (session.ended) return 'ended';
  if (session.pid === undefined || session.hostname !== hostname()) return 'open';
  try {
    process.kill(session.pid, 0);
    return 'open';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'ended unrecorded' : 'open';
  }
}

/** The configured bus's topics and groups; an embedded bus that does not exist yet is empty. */
async function describeBus(opened: OpenedStore, home: string): Promise<BusDescription> {
  if (opened.embedded) return opened.embedded.bus.describe();
  if (opened.config.bus === 'kafka') {
    const kafka = new KafkaBus(opened.config.kafka ?? {}, { role: 'command' });
    try {
      return await kafka.describe([DETECTORS_GROUP]);
    } finally {
      await kafka.close();
    }
  }
  const file = resolveHome(home).bus;
  if (!existsSync(file)) return { topics: [], groups: [] };
  const bus = new EmbeddedBus(file);
  try {
    return bus.describe();
  } finally {
    await bus.close();
  }
}

/** The spool the home's collectors use when the bus is unreachable, if one was ever written. */
function spoolDepth(config: TapwireConfig, home: string): PipelineStatus['spool'] {
  const file = join(config.spool?.dir ?? join(resolveHome(home).root, 'spool'), 'spool.sqlite');
  if (!existsSync(file)) return undefined;
  // Reading only: the bound on what it keeps matters to appends, which a status never makes.
  const spool = new DiskSpool(file, Number.MAX_SAFE_INTEGER);
  try {
    return { file, ...spool.depth() };
  } finally {
    spool.close();
  }
}

/** The latest counters of each tap: its last tap.status or session.end event. */
async function tapCounters(store: Store): Promise<Map<string, NonNullable<McpEvent['mcp']['tap']>>> {
  const counters = new Map<string, NonNullable<McpEvent['mcp']['tap']>>();
  for (const method of ['tap.status', 'session.end']) {
    for (const e of await store.events({ method, order: 'asc', limit: 100_000 })) if (e.mcp.tap) counters.set(e.mcp.session.id, e.mcp.tap);
  }
  return counters;
}

/** The status of a home's pipeline, read from the opened store and the configured bus. */
export async function pipelineStatus(opened: OpenedStore, home: string | undefined): Promise<PipelineStatus> {
  const root = opened.embedded?.paths.root ?? resolveHome(home ?? opened.config.home).root;
  const { store, config } = opened;
  const bus = await describeBus(opened, root);
  const sessions = await store.sessions({ limit: 10_000 });
  const counters = await tapCounters(store);
  const taps: TapStatus[] = sessions.map((s) => ({ session: s.id, server: s.serverName, pid: s.pid, state: sessionState(s), events: s.events, lastSeen: s.lastSeen, dropped: counters.get(s.id)?.dropped ?? 0, unobservedBytes: counters.get(s.id)?.bytes_unobserved ?? 0 }));
  const dropped = taps.reduce((sum, t) => sum + t.dropped, 0);
  const eventsTopic = config.bus === 'kafka' ? (config.kafka?.topics?.events ?? TOPICS.events) : TOPICS.events;
  const detectorGroup = bus.groups.find((g) => g.group === DETECTORS_GROUP && g.topic === eventsTopic);
  const eventRecords = bus.topics.find((t) => t.topic === eventsTopic)?.records ?? 0;
  const alerts = (await store.alerts({ limit: 1 })).length > 0;
  const detector = { group: DETECTORS_GROUP, running: detectorGroup !== undefined, lag: detectorGroup?.lag ?? eventRecords };
  const spool = spoolDepth(config, root);
  const next: string[] = [];
  if (sessions.length === 0) next.push("no MCP traffic captured yet: put your hosts' servers behind Tapwire with 'tapwire install' (or 'tapwire tap --name NAME -- CMD'), or try 'tapwire demo'");
  else if (!detector.running) next.push(`${eventRecords} events captured but no detector has run: start 'tapwire up' (or 'tapwire detect --once')`);
  else if (detector.lag > 0) next.push(`the detectors are ${detector.lag} events behind: is 'tapwire up' running? ('tapwire detect --once' catches up once)`);
  if (sessions.length > 0 && !alerts && detector.running && detector.lag === 0) next.push("nothing detected so far: 'tapwire alerts --follow' prints alerts as they are raised; 'tapwire rules list' shows what is looked for");
  const gone = taps.filter((t) => t.state === 'ended unrecorded');
  if (gone.length > 0) next.push(`${gone.length} session${gone.length === 1 ? '' : 's'} ended unrecorded (the tap was killed or could not write its end): their last events may be missing`);
  if (spool && spool.records > 0) next.push(`${spool.records} events wait in the spool (${spool.file}) for the bus: a tap or proxy delivers them once the bus is reachable`);
  return { home: root, busKind: config.bus, storeKind: opened.kind, bus, detector, spool, alerts, taps, dropped, next };
}
