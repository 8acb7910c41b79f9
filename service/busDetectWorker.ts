/**
 * The detector worker over a bus topic: reads event records in batches (consumer group "detectors"), runs them
 * through a DetectorRuntime, stores the alerts, then commits the batch's state together with the bus offset.
 *
 * Exactly once across crashes: the state store's position is the truth about what was processed. Alerts are
 * written before the state commit, so a crash in between re-runs the batch from the previous state and re-raises
 * identical alerts (same fingerprints), which the store ignores. A restart resumes after the state's position.
 * The bus group commit that follows only feeds lag() and prune(). Alerts also go to the alerts topic, at least
 * once: a consumer of that topic dedupes by fingerprint.
 *
 * A batch a store sync beside it has just read and decoded comes through `handoff` instead of being read and parsed
 * again; the worker then takes the sync's whole batch as its own (one state commit and one alert write for it).
 *
 * The rule pack's correlation windows live in memory; on start the worker replays the records just before its
 * position into the rules alone (their alerts were raised before the restart), so windows open at the crash
 * still close with the same alerts.
 */
import { TOPICS, type Bus, type BusConsumer, type ConsumedRecord } from '../pipeline/bus.js';
import type { Logger } from '../pipeline/logger.js';
import { busSource, decodeEvent, encodeAlert } from '../pipeline/recordCodec.js';
import type { Store } from '../pipeline/store.js';
import type { McpAlert } from '../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import type { DetectorBatch, DetectorRuntime } from '../detectors/detectorRuntime.js';
import { DecodedEventHandoff, type DecodedRecord } from './decodedEventHandoff.js';

export interface BusDetectWorkerOptions {
  bus: Bus;
  store: Store;
  runtime: DetectorRuntime;
  /** Consumer group (default "detectors"). */
  group?: string;
  /** Topic of events (default TOPICS.events). */
  topic?: string;
  /** Records per batch (default 500). */
  batchSize?: number;
  /** Offsets before the resumed position replayed into the rule pack on start (default 10,000). */
  warmupOffsets?: number;
  /** Also publish alerts to TOPICS.alerts (default true). */
  publishAlerts?: boolean;
  logger?: Logger;
}

/** Totals since the worker started. */
export interface BusDetectWorkerTotals {
  records: number;
  events: number;
  /** Records that are not valid events (the store sync dead-letters them). */
  invalid: number;
  alerts: number;
  /** Alerts the store had not seen before. */
  newAlerts: number;
  batches: number;
}

/** Consumes events from the bus into alerts in the store. */
export class BusDetectWorker {
  readonly totals: BusDetectWorkerTotals = { records: 0, events: 0, invalid: 0, alerts: 0, newAlerts: 0, batches: 0 };
  /** Where a store sync reading the same topic just ahead leaves the batches it decoded (storeSync.ts). */
  readonly handoff: DecodedEventHandoff;
  private readonly topic: string;
  private readonly source: string;
  private consumer: BusConsumer | undefined;
  private position = -1;

  /** Nothing is read before start(). */
  constructor(private readonly options: BusDetectWorkerOptions) {
    this.topic = options.topic ?? TOPICS.events;
    this.source = busSource(this.topic);
    this.handoff = new DecodedEventHandoff(options.bus, this.topic);
  }

  /** The offset of the last record whose state is committed (-1 before any). */
  get committedOffset(): number {
    return this.position;
  }

  /** Opens the consumer at the state's position and rebuilds the rule pack's correlation windows. */
  async start(): Promise<void> {
    const consumer = await this.options.bus.consumer(this.options.group ?? 'detectors', this.topic);
    this.consumer = consumer;
    this.position = this.options.runtime.state.position(this.source);
    const warmup = this.options.warmupOffsets ?? 10_000;
    if (this.position >= 0 && warmup > 0) {
      consumer.seek(Math.max(-1, this.position - warmup));
      let warmed = 0;
      for (;;) {
        const records = (await consumer.poll(this.options.batchSize ?? 500)).filter((r) => r.offset <= this.position);
        if (records.length === 0) break;
        const events = this.eventsOf(decodeRecords(records), false);
        this.options.runtime.warmRules(events);
        warmed += events.length;
        if ((records.at(-1) as ConsumedRecord).offset >= this.position) break;
      }
      this.options.logger?.info({ position: this.position, warmed }, 'detector worker resumed');
    }
    consumer.seek(this.position);
  }

  /** Processes the next batch; returns how many records it read (0: caught up). */
  async step(): Promise<number> {
    const consumer = this.requireStarted();
    const handed = this.handoff.take(this.position);
    const records = handed?.records ?? decodeRecords(await consumer.poll(this.options.batchSize ?? 500));
    const last = records.at(-1);
    if (!last) return 0;
    if (handed) consumer.seek(last.offset);
    const batch = this.options.runtime.batch();
    batch.process(this.eventsOf(records, true));
    await this.deliver(batch.alerts);
    batch.commit({ source: this.source, offset: last.offset }, this.position);
    this.position = last.offset;
    await consumer.commit(last.offset);
    this.totals.records += records.length;
    this.totals.batches += 1;
    return records.length;
  }

  /**
   * Runs the events the reorder buffer still holds up to event time `upTo`: all of them when the input has ended
   * (the default), or those older than the allowed lateness when the bus is idle. Returns how many alerts followed.
   */
  async releaseHeld(upTo = Number.POSITIVE_INFINITY): Promise<number> {
    if (this.options.runtime.reorder.size === 0) return 0;
    return this.inPlace((batch) => batch.release(upTo));
  }

  /** On an idle bus: runs the held events older than the runtime's allowed lateness before wall-clock time `now`. */
  async releaseLate(now: number): Promise<number> {
    return this.releaseHeld(now - this.options.runtime.reorder.latenessMs);
  }

  /** Processes batches until the topic has nothing more. */
  async drain(): Promise<void> {
    while ((await this.step()) > 0);
  }

  /** Runs the detectors' scheduled work at the event-time watermark (cron); returns how many alerts it raised. */
  async tick(): Promise<number> {
    const watermark = this.options.runtime.watermark;
    if (!Number.isFinite(watermark)) return 0;
    return this.inPlace((batch) => batch.tick(watermark));
  }

  /** A batch that reads no record: stores its alerts, then commits its state at the unchanged position. */
  private async inPlace(work: (batch: DetectorBatch) => void): Promise<number> {
    this.requireStarted();
    const batch = this.options.runtime.batch();
    work(batch);
    await this.deliver(batch.alerts);
    batch.commit({ source: this.source, offset: this.position }, this.position);
    return batch.alerts.length;
  }

  /** Closes the consumer (the bus, store and state belong to the caller). */
  async close(): Promise<void> {
    await this.consumer?.close();
    this.consumer = undefined;
  }

  private requireStarted(): BusConsumer {
    if (!this.consumer) throw new Error('detector worker: start() first');
    return this.consumer;
  }

  private async deliver(alerts: readonly McpAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    const stored = await this.options.store.putAlerts(alerts);
    if (this.options.publishAlerts !== false) {
      await this.options.bus.publish(TOPICS.alerts, alerts.map(encodeAlert));
    }
    this.totals.alerts += alerts.length;
    this.totals.newAlerts += stored.inserted;
  }

  private eventsOf(records: readonly DecodedRecord[], count: boolean): McpEvent[] {
    const events: McpEvent[] = [];
    for (const { offset, decoded } of records) {
      if ('event' in decoded) events.push(decoded.event);
      else if (count) {
        this.totals.invalid += 1;
        this.options.logger?.warn({ offset }, 'skipping a record that is not a valid MCP event');
      }
    }
    if (count) this.totals.events += events.length;
    return events;
  }
}

function decodeRecords(records: readonly ConsumedRecord[]): DecodedRecord[] {
  return records.map((record) => ({ offset: record.offset, decoded: decodeEvent(record.value) }));
}
