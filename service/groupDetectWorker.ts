/**
 * The detector worker of a consumer group (the Kafka deployment, where N workers share the partitions). Detector state
 * follows the partitioning, so N workers raise the same alerts as one:
 *
 * - The events topic is keyed by host session: a partition holds whole host sessions, in order. Its runtime runs the
 *   Sigma rules and the host_session detectors (cross-server flows, sequences), indexes the events into the store,
 *   and re-publishes each event to the serverEvents topic keyed by server identity.
 * - The serverEvents topic is keyed by server identity: a partition holds whole servers. Its runtime runs the server
 *   detectors (drift, inventory, usage baselines, posture).
 *
 * Each (topic, partition) has its own DetectorRuntime over its own StateStore, opened when a batch of it first
 * arrives and dropped when a rebalance takes it away; the StateStore records the last offset whose effects it holds,
 * in the same transaction as the state. A batch's effects (dead letters, events, alerts, re-keyed events) are written
 * before that commit, and the bus commits the group offset after it, so a crash anywhere repeats work only up to
 * identical alerts (same fingerprints) and identical events (same ids), which the store ignores. A member cut off from
 * the group keeps its runtimes until it hears it lost them; before idle work (releases, roll-ups) it checks the stored
 * position, so once the new owner has committed, the stale runtime delivers nothing from what it held. Re-keyed events carry
 * their source partition and offset, and a server runtime skips any it has already applied, so a repeated batch
 * cannot feed a server detector twice. The state files must be reachable by every worker that may own a partition.
 *
 * What the embedded worker has, a group member has too:
 * - The rule pack's correlation windows live in memory. Each events-partition state also keeps the partition's last
 *   `warmupEvents` records (written in the batch's own commit), and a runtime opened on a partition — after a
 *   restart, a crash or a rebalance — first replays them into the rules alone, so a window open at the hand-over
 *   closes with the same alert, raised once, by the new owner. The state keeps them rather than the bus because a
 *   Kafka consumer reads by group, not by offset range, and because retention may have deleted them.
 * - tick() runs the detectors' scheduled roll-ups on every owned partition, at that partition's event-time
 *   watermark, as `tapwire up` does on its cron schedule.
 */
import { TOPICS, type Bus, type ConsumedRecord, type OutgoingRecord, type PartitionBatch, type Subscription } from '../pipeline/bus.js';
import type { Logger } from '../pipeline/logger.js';
import { busSource, decodeEvent, decodeServerEvent, encodeAlert, encodeDeadLetter, encodeServerEvent, type ServerEventRecord } from '../pipeline/recordCodec.js';
import type { Store } from '../pipeline/store.js';
import type { McpAlert } from '../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import type { PartitionBy } from '../detectors/detector.js';
import type { DetectorBatch, DetectorRuntime } from '../detectors/detectorRuntime.js';
import { RUNTIME_PARTITION } from '../detectors/runtimeState.js';
import type { StateStore } from '../detectors/stateStore.js';
import { PositionConflictError } from '../detectors/stateBatch.js';

export interface GroupDetectWorkerOptions {
  bus: Bus;
  /** Where events are indexed and alerts stored. */
  store: Store;
  /** The state of one partition of a topic; closed when the partition goes. */
  openState(topic: string, partition: number): StateStore;
  /** A runtime over `state` for the detectors of one partitioning (with the rules for host_session). */
  createRuntime(state: StateStore, partitionBy: PartitionBy): DetectorRuntime;
  /** Consumer group (default "detectors"). */
  group?: string;
  /** How often held (reorder) events are released while a partition is idle (default 1000 ms). */
  releaseIntervalMs?: number;
  /** The wall clock those releases compare event times with (default Date.now); a test drives it. */
  now?: () => number;
  /** Records of each events partition kept in its state to rebuild the correlation windows (default 10,000). */
  warmupEvents?: number;
  logger?: Logger;
}

/** Totals since the worker started. */
export interface GroupDetectWorkerTotals {
  records: number;
  events: number;
  serverEvents: number;
  /** Re-keyed events skipped because their server runtime had applied them already. */
  repeats: number;
  deadLetters: number;
  alerts: number;
  batches: number;
  /** Events replayed into the rule pack when a partition's runtime was opened. */
  warmed: number;
  /** Scheduled roll-up rounds run on a partition. */
  ticks: number;
}

interface OwnedPartition {
  topic: string;
  partition: number;
  state: StateStore;
  runtime: DetectorRuntime;
  /** The offset whose effects the state holds. */
  position: number;
  /** Work on this partition runs one at a time (batches, idle releases). */
  queue: Promise<unknown>;
}

/** The debug message of an idle release (with topic, partition, position, upTo and released). */
export const IDLE_RELEASE_MESSAGE = 'held events released on an idle partition';

const REKEY_NS = 'runtime.rekey';
/** The recent records of an events partition: an index of slices, and each slice's record values under its last offset. */
const RECENT_NS = 'runtime.recent';
const RECENT_INDEX = 'index';

/** A slice of recent records kept in state: its last offset and how many records it holds. */
interface RecentSlice {
  offset: number;
  count: number;
}

/** Consumes events and serverEvents as a member of the detector group. */
export class GroupDetectWorker {
  readonly totals: GroupDetectWorkerTotals = { records: 0, events: 0, serverEvents: 0, repeats: 0, deadLetters: 0, alerts: 0, batches: 0, warmed: 0, ticks: 0 };
  private readonly owned = new Map<string, OwnedPartition>();
  private subscription: Subscription | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;

  /** Nothing is read before start(). */
  constructor(private readonly options: GroupDetectWorkerOptions) {}

  /** Settles when the worker has stopped; rejects if its group membership failed for good. */
  get done(): Promise<void> {
    return this.subscription?.done ?? Promise.resolve();
  }

  /** Events the owned partitions' reorder buffers hold, waiting for late events of other sessions. */
  get held(): number {
    let held = 0;
    for (const owned of this.owned.values()) held += owned.runtime.reorder.size;
    return held;
  }

  /** Joins the group on the events and serverEvents topics. */
  async start(): Promise<void> {
    this.subscription = await this.options.bus.subscribe(this.options.group ?? 'detectors', [TOPICS.events, TOPICS.serverEvents], (batch) => this.handle(batch), {
      onAssignment: (partitions) => this.assigned(partitions),
      onRetry: (error, batch) => this.options.logger?.warn({ err: error, topic: batch.topic, partition: batch.partition, offset: batch.records[0]?.offset }, 'batch failed; retrying'),
    });
    this.releaseTimer = setInterval(() => void this.releaseIdle(), this.options.releaseIntervalMs ?? 1000);
    this.releaseTimer.unref();
  }

  /** Finishes the batch in hand, leaves the group, and closes the partitions' state. */
  async stop(): Promise<void> {
    clearInterval(this.releaseTimer);
    await this.subscription?.stop();
    await Promise.all([...this.owned.values()].map((p) => p.queue));
    for (const key of [...this.owned.keys()]) this.drop(key);
  }

  private async handle(batch: PartitionBatch): Promise<void> {
    const owned = this.partition(batch.topic, batch.partition);
    const work = owned.queue.then(() => this.process(owned, batch));
    owned.queue = work.catch(() => undefined);
    await work;
  }

  private async process(initial: OwnedPartition, batch: PartitionBatch): Promise<void> {
    const owned = this.current(initial);
    const fresh = batch.records.filter((r) => r.offset > owned.position);
    const last = fresh.at(-1);
    if (!last) return;
    const byServer = batch.topic === TOPICS.serverEvents;
    const { sourced, deadLetters } = decodeBatch(fresh, batch.topic, batch.partition);
    if (deadLetters.length > 0) await this.options.bus.publish(TOPICS.deadLetters, deadLetters);
    const detectorBatch = owned.runtime.batch();
    const applied = byServer ? skipApplied(detectorBatch, sourced) : sourced.map((s) => s.event);
    if (!byServer) await this.options.store.ingestEvents(applied);
    detectorBatch.process(applied);
    await this.deliver(detectorBatch.alerts);
    if (!byServer && sourced.length > 0) await this.options.bus.publish(TOPICS.serverEvents, sourced.map(encodeServerEvent));
    if (!byServer) this.keepRecent(detectorBatch, fresh, last.offset);
    this.commit(owned, detectorBatch, last.offset);
    this.totals.records += fresh.length;
    this.totals[byServer ? 'serverEvents' : 'events'] += applied.length;
    this.totals.repeats += sourced.length - applied.length;
    this.totals.deadLetters += deadLetters.length;
    this.totals.batches += 1;
  }

  private commit(owned: OwnedPartition, batch: DetectorBatch, offset: number): void {
    try {
      batch.commit({ source: busSource(owned.topic), offset }, owned.position);
    } catch (error) {
      // Another worker processed this partition meanwhile: this runtime's memory is stale; reload it on the next try.
      if (error instanceof PositionConflictError) this.drop(keyOf(owned.topic, owned.partition));
      throw error;
    }
    owned.position = offset;
  }

  private async deliver(alerts: readonly McpAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.options.store.putAlerts(alerts);
    await this.options.bus.publish(TOPICS.alerts, alerts.map(encodeAlert));
    this.totals.alerts += alerts.length;
  }

  /**
   * Runs the detectors' scheduled roll-ups on every partition this member owns, at the partition's event-time
   * watermark (a partition that has processed nothing since it was opened waits for its next round). Returns the
   * alerts raised.
   */
  async tick(): Promise<number> {
    let raised = 0;
    await this.eachOwned((owned) => Number.isFinite(owned.runtime.watermark), async (owned) => {
      const batch = owned.runtime.batch();
      batch.tick(owned.runtime.watermark);
      await this.deliver(batch.alerts);
      this.commit(owned, batch, owned.position);
      raised += batch.alerts.length;
      this.totals.ticks += 1;
    }, 'roll-up failed; it runs again at its next round');
    return raised;
  }

  /** Keeps the batch's records in the partition's state, dropping the oldest slices beyond `warmupEvents`. */
  private keepRecent(batch: DetectorBatch, records: readonly ConsumedRecord[], offset: number): void {
    const limit = this.options.warmupEvents ?? 10_000;
    if (limit <= 0) return;
    const index = [...(batch.writes.get<RecentSlice[]>(RUNTIME_PARTITION, RECENT_NS, RECENT_INDEX) ?? []), { offset, count: records.length }];
    batch.writes.put(RUNTIME_PARTITION, RECENT_NS, recentKey(offset), records.map((r) => r.value));
    let kept = index.reduce((sum, slice) => sum + slice.count, 0);
    while (index.length > 1 && kept - (index[0] as RecentSlice).count >= limit) {
      const oldest = index.shift() as RecentSlice;
      kept -= oldest.count;
      batch.writes.delete(RUNTIME_PARTITION, RECENT_NS, recentKey(oldest.offset));
    }
    batch.writes.put(RUNTIME_PARTITION, RECENT_NS, RECENT_INDEX, index);
  }

  /** Replays an events partition's recent records into its runtime's rules (their alerts were raised already). */
  private warm(owned: OwnedPartition): void {
    const index = owned.state.get<RecentSlice[]>(RUNTIME_PARTITION, RECENT_NS, RECENT_INDEX) ?? [];
    const events: McpEvent[] = [];
    for (const slice of index) {
      for (const value of owned.state.get<string[]>(RUNTIME_PARTITION, RECENT_NS, recentKey(slice.offset)) ?? []) {
        const decoded = decodeEvent(value);
        if ('event' in decoded) events.push(decoded.event);
      }
    }
    owned.runtime.warmRules(events);
    this.totals.warmed += events.length;
    if (events.length > 0) this.options.logger?.info({ topic: owned.topic, partition: owned.partition, position: owned.position, warmed: events.length }, 'correlation windows rebuilt');
  }

  /**
   * Runs the events each idle partition's reorder buffer holds past the allowed lateness (wall clock). Where such a
   * release falls among a partition's records is a wall-clock decision that decides the order detectors see events
   * in, so each is logged (debug) with the partition's position: a replay of the partition reproduces the alerts.
   */
  private async releaseIdle(): Promise<void> {
    await this.eachOwned((owned) => owned.runtime.reorder.size > 0, async (owned) => {
      const upTo = (this.options.now ?? Date.now)() - owned.runtime.reorder.latenessMs;
      const held = owned.runtime.reorder.size;
      const batch = owned.runtime.batch();
      batch.release(upTo);
      await this.deliver(batch.alerts);
      this.commit(owned, batch, owned.position);
      const released = held - owned.runtime.reorder.size;
      if (released > 0) this.options.logger?.debug({ topic: owned.topic, partition: owned.partition, position: owned.position, upTo, released }, IDLE_RELEASE_MESSAGE);
    }, 'releasing held events failed; retrying');
  }

  /** Runs `work` on each owned partition where `wanted` holds, in turn with its batches; a failure is logged. */
  private async eachOwned(wanted: (owned: OwnedPartition) => boolean, work: (owned: OwnedPartition) => Promise<void>, failure: string): Promise<void> {
    for (const owned of [...this.owned.values()]) {
      if (!wanted(owned)) continue;
      const run = owned.queue.then(async () => {
        if (this.owned.get(keyOf(owned.topic, owned.partition)) !== owned || !wanted(owned) || this.lost(owned)) return;
        await work(owned);
      });
      owned.queue = run.catch((error: unknown) => this.options.logger?.warn({ err: error, topic: owned.topic, partition: owned.partition }, failure));
      await owned.queue;
    }
  }

  /**
   * Whether another worker has processed the partition since this one last did (its stored position moved): this
   * member lost it without hearing so yet (cut off from the group), and its runtime is stale. Idle work on a stale
   * runtime would deliver alerts the new owner raises differently or again, so the runtime is dropped instead; a
   * batch of the partition, if one still comes here, reloads it from the state.
   */
  private lost(owned: OwnedPartition): boolean {
    if (!movedOn(owned)) return false;
    this.drop(keyOf(owned.topic, owned.partition));
    this.options.logger?.info({ topic: owned.topic, partition: owned.partition, position: owned.position }, 'another worker processed this partition meanwhile; dropped its stale runtime');
    return true;
  }

  /** Drops the runtimes of partitions this member no longer owns. */
  private assigned(partitions: { topic: string; partition: number }[]): void {
    const keep = new Set(partitions.map((p) => keyOf(p.topic, p.partition)));
    for (const key of [...this.owned.keys()]) if (!keep.has(key)) this.drop(key);
    this.options.logger?.info({ partitions: [...keep] }, 'partitions assigned');
  }

  private partition(topic: string, partition: number): OwnedPartition {
    const key = keyOf(topic, partition);
    let owned = this.owned.get(key);
    if (!owned) {
      const state = this.options.openState(topic, partition);
      const byServer = topic === TOPICS.serverEvents;
      owned = { topic, partition, state, runtime: this.options.createRuntime(state, byServer ? 'server' : 'host_session'), position: state.position(busSource(topic)), queue: Promise.resolve() };
      if (!byServer) this.warm(owned);
      this.owned.set(key, owned);
    }
    return owned;
  }

  /** The partition's runtime, reloaded when the stored position moved under it (another worker owned it meanwhile). */
  private current(owned: OwnedPartition): OwnedPartition {
    const key = keyOf(owned.topic, owned.partition);
    if (this.owned.get(key) === owned && !movedOn(owned)) return owned;
    if (this.owned.get(key) === owned) this.drop(key);
    const fresh = this.partition(owned.topic, owned.partition);
    fresh.queue = owned.queue;
    return fresh;
  }

  private drop(key: string): void {
    const owned = this.owned.get(key);
    if (!owned) return;
    this.owned.delete(key);
    owned.state.close();
  }
}

/** The events of a batch, each with its source position; what does not decode becomes a dead letter. */
function decodeBatch(records: readonly ConsumedRecord[], topic: string, partition: number): { sourced: ServerEventRecord[]; deadLetters: OutgoingRecord[] } {
  const sourced: ServerEventRecord[] = [];
  const deadLetters: OutgoingRecord[] = [];
  for (const record of records) {
    // An events record is a bare event; a serverEvents record carries the position its event came from.
    const decoded: ServerEventRecord | { error: string } = topic === TOPICS.serverEvents ? decodeServerEvent(record.value) : sourcedEvent(record, partition);
    if ('error' in decoded) deadLetters.push(encodeDeadLetter({ refusedBy: 'decoder', topic, partition, ...record, error: decoded.error }));
    else sourced.push(decoded);
  }
  return { sourced, deadLetters };
}

/** An events record's event with its own position. */
function sourcedEvent(record: ConsumedRecord, partition: number): ServerEventRecord | { error: string } {
  const decoded = decodeEvent(record.value);
  return 'event' in decoded ? { from: { partition, offset: record.offset }, event: decoded.event } : decoded;
}

/** The events a server runtime has not applied yet, marking them applied in the batch's state. */
function skipApplied(batch: DetectorBatch, sourced: readonly ServerEventRecord[]): McpEvent[] {
  const fresh: McpEvent[] = [];
  for (const { from, event } of sourced) {
    const applied = batch.writes.get<number>(RUNTIME_PARTITION, REKEY_NS, String(from.partition)) ?? -1;
    if (from.offset <= applied) continue;
    batch.writes.put(RUNTIME_PARTITION, REKEY_NS, String(from.partition), from.offset);
    fresh.push(event);
  }
  return fresh;
}

/** Whether the partition's stored position differs from the one its runtime holds (another worker committed). */
function movedOn(owned: OwnedPartition): boolean {
  return owned.state.position(busSource(owned.topic)) !== owned.position;
}

function keyOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** Slice keys sort by offset. */
function recentKey(offset: number): string {
  return `slice.${String(offset).padStart(16, '0')}`;
}
