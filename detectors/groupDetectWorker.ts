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
 * identical alerts (same fingerprints) and identical events (same ids), which the store ignores. Re-keyed events carry
 * their source partition and offset, and a server runtime skips any it has already applied, so a repeated batch
 * cannot feed a server detector twice. The state files must be reachable by every worker that may own a partition.
 */
import { TOPICS, type Bus, type ConsumedRecord, type OutgoingRecord, type PartitionBatch, type Subscription } from '../pipeline/bus.js';
import type { Logger } from '../pipeline/logger.js';
import type { Store } from '../pipeline/store.js';
import { busSource, parseEvent, type DeadLetter } from '../pipeline/storeSync.js';
import type { McpAlert } from '../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import type { PartitionBy } from './detector.js';
import type { DetectorBatch, DetectorRuntime } from './detectorRuntime.js';
import { RUNTIME_PARTITION } from './runtimeState.js';
import type { StateStore } from './stateStore.js';
import { PositionConflictError } from './stateBatch.js';

/** A record of the serverEvents topic: an event and where it came from in the events topic. */
export interface ServerEventRecord {
  from: { partition: number; offset: number };
  event: McpEvent;
}

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

const REKEY_NS = 'runtime.rekey';

/** Consumes events and serverEvents as a member of the detector group. */
export class GroupDetectWorker {
  readonly totals: GroupDetectWorkerTotals = { records: 0, events: 0, serverEvents: 0, repeats: 0, deadLetters: 0, alerts: 0, batches: 0 };
  private readonly owned = new Map<string, OwnedPartition>();
  private subscription: Subscription | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;

  /** Nothing is read before start(). */
  constructor(private readonly options: GroupDetectWorkerOptions) {}

  /** Settles when the worker has stopped; rejects if its group membership failed for good. */
  get done(): Promise<void> {
    return this.subscription?.done ?? Promise.resolve();
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
    const { sourced, deadLetters } = byServer ? parseServerEvents(fresh) : parseEvents(fresh, batch.partition);
    if (deadLetters.length > 0) await this.options.bus.publish(TOPICS.deadLetters, deadLetters.map((d) => deadLetter(batch, d.record, d.error)));
    const detectorBatch = owned.runtime.batch();
    const applied = byServer ? skipApplied(detectorBatch, sourced) : sourced.map((s) => s.event);
    if (!byServer) await this.options.store.ingestEvents(applied);
    detectorBatch.process(applied);
    await this.deliver(detectorBatch.alerts);
    if (!byServer && sourced.length > 0) {
      await this.options.bus.publish(TOPICS.serverEvents, sourced.map((s) => ({ key: s.event.mcp.server.id, value: JSON.stringify(s satisfies ServerEventRecord) })));
    }
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
    await this.options.bus.publish(TOPICS.alerts, alerts.map((a) => ({ key: a.mcp?.server?.id ?? a.rule.id, value: JSON.stringify(a) })));
    this.totals.alerts += alerts.length;
  }

  /** Runs the events each idle partition's reorder buffer holds past the allowed lateness (wall clock). */
  private async releaseIdle(): Promise<void> {
    for (const owned of [...this.owned.values()]) {
      if (owned.runtime.reorder.size === 0) continue;
      const work = owned.queue.then(async () => {
        if (this.owned.get(keyOf(owned.topic, owned.partition)) !== owned || owned.runtime.reorder.size === 0) return;
        const batch = owned.runtime.batch();
        batch.release(Date.now() - owned.runtime.reorder.latenessMs);
        await this.deliver(batch.alerts);
        this.commit(owned, batch, owned.position);
      });
      owned.queue = work.catch((error: unknown) => this.options.logger?.warn({ err: error, topic: owned.topic, partition: owned.partition }, 'releasing held events failed; retrying'));
      await owned.queue;
    }
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
      owned = { topic, partition, state, runtime: this.options.createRuntime(state, topic === TOPICS.serverEvents ? 'server' : 'host_session'), position: state.position(busSource(topic)), queue: Promise.resolve() };
      this.owned.set(key, owned);
    }
    return owned;
  }

  /** The partition's runtime, reloaded when the stored position moved under it (another worker owned it meanwhile). */
  private current(owned: OwnedPartition): OwnedPartition {
    const key = keyOf(owned.topic, owned.partition);
    if (this.owned.get(key) === owned && owned.state.position(busSource(owned.topic)) === owned.position) return owned;
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

/** A record the worker cannot use, and why. */
interface Unusable {
  record: ConsumedRecord;
  error: string;
}

/** The events of an events-topic batch, each with its source position. */
function parseEvents(records: readonly ConsumedRecord[], partition: number): { sourced: ServerEventRecord[]; deadLetters: Unusable[] } {
  const sourced: ServerEventRecord[] = [];
  const deadLetters: Unusable[] = [];
  for (const record of records) {
    const parsed = parseEvent(record.value);
    if ('event' in parsed) sourced.push({ from: { partition, offset: record.offset }, event: parsed.event });
    else deadLetters.push({ record, error: parsed.error });
  }
  return { sourced, deadLetters };
}

/** The events of a serverEvents batch, with the source positions they carry. */
function parseServerEvents(records: readonly ConsumedRecord[]): { sourced: ServerEventRecord[]; deadLetters: Unusable[] } {
  const sourced: ServerEventRecord[] = [];
  const deadLetters: Unusable[] = [];
  for (const record of records) {
    let envelope: Partial<ServerEventRecord> | undefined;
    try {
      envelope = JSON.parse(record.value) as Partial<ServerEventRecord>;
    } catch {
      envelope = undefined;
    }
    const from = envelope?.from;
    if (!from || !Number.isInteger(from.partition) || !Number.isInteger(from.offset) || envelope?.event === undefined) {
      deadLetters.push({ record, error: 'not a serverEvents record ({from: {partition, offset}, event})' });
      continue;
    }
    const parsed = parseEvent(JSON.stringify(envelope.event));
    if ('event' in parsed) sourced.push({ from, event: parsed.event });
    else deadLetters.push({ record, error: parsed.error });
  }
  return { sourced, deadLetters };
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

function keyOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

function deadLetter(batch: PartitionBatch, record: ConsumedRecord, error: string): OutgoingRecord {
  const letter: DeadLetter & { partition: number } = { topic: batch.topic, partition: batch.partition, ...record, error };
  return { key: record.key, value: JSON.stringify(letter) };
}
