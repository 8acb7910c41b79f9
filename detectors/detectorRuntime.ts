/**
 * Runs the Sigma rule pack and the stateful detectors over events, the same way live, in replay and in the demo.
 * Work happens in batches: a batch reads and writes detector state through a StateBatch, collects the alerts, and
 * only commit() makes its state durable (with the consumer position). A caller stores the alerts first and commits
 * second, so a crash in between repeats the batch from unchanged state and re-raises the same alerts, which the
 * store drops as duplicates by fingerprint.
 *
 * Events pass a reorder buffer first (ReorderBuffer): detectors see them in event-time order even when taps
 * published them late; the end of the input (replay, `detect --once`) releases everything held.
 *
 * Scheduled detector work (Detector.onTick) runs on event time: whenever an event crosses the next multiple of the
 * tick interval, every detector ticks at that event's time before seeing it. Live and replay therefore tick at the
 * same points; `tapwire up` may add ticks at the event-time watermark from its cron schedule.
 */
import { eventTimeOf } from '../pipeline/eventTime.js';
import type { McpAlert } from '../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import type { Detector, DetectorContext } from './detector.js';
import { ReorderBuffer } from './reorderBuffer.js';
import { EventWork, type SharedEventWork } from './sharedEventWork.js';
import { RUNTIME_NS, RUNTIME_PARTITION } from './runtimeState.js';
import { StateBatch } from './stateBatch.js';
import type { StateStore } from './stateStore.js';

/** What runs the Sigma rule pack: a RuleEngine, or a hot-reloadable RuleSet. */
export interface RuleEvaluator {
  /** `shared`: the event's work shared with the detectors (derived text fields are computed through it). */
  evaluate(event: McpEvent, shared?: SharedEventWork): McpAlert[];
  /** Judges every open correlation window and clears correlation state. */
  flush(): McpAlert[];
}

export interface DetectorRuntimeOptions {
  detectors: readonly Detector[];
  /** The rule pack; without one only the stateful detectors run. */
  rules?: RuleEvaluator;
  /** Event time between onTick rounds (default 5 minutes, as `tapwire up` rolls up). */
  tickIntervalMs?: number;
  /** Event time an event waits for earlier events of other sessions that arrive late (default 0: no reordering). */
  reorderLatenessMs?: number;
  /** Told when a detector throws; the event still reaches the other detectors and the batch goes on. */
  onDetectorError?: (error: Error, detectorId: string, event: McpEvent | undefined) => void;
}

/** Counters since the runtime was created. */
export interface DetectorRuntimeStats {
  events: number;
  ruleAlerts: number;
  detectorAlerts: number;
  detectorErrors: number;
  ticks: number;
}

const NEXT_TICK_KEY = 'nextTick';

/** The rule engine and stateful detectors over one StateStore. */
export class DetectorRuntime {
  readonly stats: DetectorRuntimeStats = { events: 0, ruleAlerts: 0, detectorAlerts: 0, detectorErrors: 0, ticks: 0 };
  private rules: RuleEvaluator | undefined;
  private readonly tickIntervalMs: number;
  private latest = Number.NEGATIVE_INFINITY;
  /** Events waiting for late earlier ones; part of the state, reloaded from it. */
  readonly reorder: ReorderBuffer;

  /** Detectors keep their memory in `state`. */
  constructor(
    readonly state: StateStore,
    private readonly options: DetectorRuntimeOptions,
  ) {
    this.rules = options.rules;
    this.tickIntervalMs = options.tickIntervalMs ?? 300_000;
    this.reorder = new ReorderBuffer(options.reorderLatenessMs ?? 0);
    this.reorder.load(state);
  }

  /** The detectors, in the order they see each event. */
  get detectors(): readonly Detector[] {
    return this.options.detectors;
  }

  /** The latest event time processed (epoch ms), or -Infinity. */
  get watermark(): number {
    return this.latest;
  }

  /** Starts a batch over the current state. */
  batch(): DetectorBatch {
    this.state.forgetUncommitted?.();
    return new DetectorBatch(this, new StateBatch(this.state));
  }

  /**
   * Runs the rule engine over already-processed events without raising alerts, to rebuild correlation windows
   * after a restart. Events still held for reordering are skipped: the rules see them when they are released.
   */
  warmRules(events: readonly McpEvent[]): void {
    if (!this.rules) return;
    const held = this.reorder.heldIds();
    const replayed = events.filter((e) => !held.has(e.event.id)).sort((a, b) => eventTimeOf(a['@timestamp']) - eventTimeOf(b['@timestamp']));
    for (const event of replayed) this.rules.evaluate(event);
  }

  /** Takes one event into the reorder buffer and runs the events it releases. */
  admit(event: McpEvent, writes: StateBatch, alerts: McpAlert[]): void {
    const time = eventTimeOf(event['@timestamp']);
    if (Number.isNaN(time)) throw new Error(`event ${event.event.id}: @timestamp '${event['@timestamp']}' is not a date`);
    if (this.reorder.latenessMs <= 0) this.evaluate(event, Math.floor(time), writes, alerts);
    else for (const released of this.reorder.add(event, time)) this.evaluate(released, Date.parse(released['@timestamp']), writes, alerts);
  }

  /** Runs the held events at or before `upTo` (all by default). */
  releaseHeld(upTo: number, writes: StateBatch, alerts: McpAlert[]): void {
    for (const event of this.reorder.release(upTo)) this.evaluate(event, Date.parse(event['@timestamp']), writes, alerts);
  }

  /** Runs one event, in order, through the rules and every detector. */
  private evaluate(event: McpEvent, now: number, writes: StateBatch, alerts: McpAlert[]): void {
    this.tickIfDue(now, writes, alerts);
    this.stats.events += 1;
    if (now > this.latest) this.latest = now;
    const shared = new EventWork();
    if (this.rules) {
      const ruleAlerts = this.rules.evaluate(event, shared);
      this.stats.ruleAlerts += ruleAlerts.length;
      alerts.push(...ruleAlerts);
    }
    const context: DetectorContext = { state: writes, now, shared };
    for (const detector of this.options.detectors) {
      try {
        const raised = detector.onEvent(event, context);
        // Most events raise nothing: no spread of an empty array per detector and event.
        if (raised.length === 0) continue;
        this.stats.detectorAlerts += raised.length;
        alerts.push(...raised);
      } catch (error) {
        this.detectorFailed(error, detector.id, event);
      }
    }
  }

  /** Runs every detector's onTick at event time `now`. */
  tick(now: number, writes: StateBatch, alerts: McpAlert[]): void {
    this.stats.ticks += 1;
    const context: DetectorContext = { state: writes, now, shared: new EventWork() };
    for (const detector of this.options.detectors) {
      if (!detector.onTick) continue;
      try {
        const raised = detector.onTick(context);
        this.stats.detectorAlerts += raised.length;
        alerts.push(...raised);
      } catch (error) {
        this.detectorFailed(error, detector.id, undefined);
      }
    }
  }

  /** Closes the rule engine's open correlation windows (end of a replay). */
  flushRules(alerts: McpAlert[]): void {
    if (!this.rules) return;
    const flushed = this.rules.flush();
    this.stats.ruleAlerts += flushed.length;
    alerts.push(...flushed);
  }

  private tickIfDue(now: number, writes: StateBatch, alerts: McpAlert[]): void {
    const due = writes.get<number>(RUNTIME_PARTITION, RUNTIME_NS, NEXT_TICK_KEY);
    const next = (Math.floor(now / this.tickIntervalMs) + 1) * this.tickIntervalMs;
    if (due === undefined) {
      writes.put(RUNTIME_PARTITION, RUNTIME_NS, NEXT_TICK_KEY, next);
      return;
    }
    if (now < due) return;
    this.tick(now, writes, alerts);
    writes.put(RUNTIME_PARTITION, RUNTIME_NS, NEXT_TICK_KEY, next);
  }

  private detectorFailed(error: unknown, detectorId: string, event: McpEvent | undefined): void {
    this.stats.detectorErrors += 1;
    const failure = error instanceof Error ? error : new Error(String(error));
    this.options.onDetectorError?.(failure, detectorId, event);
  }
}

/** One batch: events in, alerts out, state held until commit(). */
export class DetectorBatch {
  /** Every alert the batch raised, in order. */
  readonly alerts: McpAlert[] = [];

  /** Created by DetectorRuntime.batch(). */
  constructor(
    private readonly runtime: DetectorRuntime,
    /** The batch's view of state (its own writes first), made durable by commit(); a caller may keep its own marks here. */
    readonly writes: StateBatch,
  ) {}

  /**
   * Runs events through the rules and detectors (after the reorder buffer: an event may wait there for a later
   * batch or release()); returns the alerts raised.
   */
  process(events: Iterable<McpEvent>): McpAlert[] {
    const raised: McpAlert[] = [];
    for (const event of events) this.runtime.admit(event, this.writes, raised);
    this.alerts.push(...raised);
    return raised;
  }

  /** Runs the held events up to event time `upTo`: all of them at the end of the input (the default). */
  release(upTo = Number.POSITIVE_INFINITY): McpAlert[] {
    const raised: McpAlert[] = [];
    this.runtime.releaseHeld(upTo, this.writes, raised);
    this.alerts.push(...raised);
    return raised;
  }

  /** Runs the detectors' scheduled work at event time `now` (a cron tick, or the end of a replay). */
  tick(now: number): McpAlert[] {
    const raised: McpAlert[] = [];
    this.runtime.tick(now, this.writes, raised);
    this.alerts.push(...raised);
    return raised;
  }

  /** Closes the rule engine's correlation windows (end of input). */
  flush(): McpAlert[] {
    const raised: McpAlert[] = [];
    this.runtime.flushRules(raised);
    this.alerts.push(...raised);
    return raised;
  }

  /**
   * Makes the batch's state durable with `position`. With `expected`, refuses (PositionConflictError) when the stored
   * position for the source is no longer `expected`, i.e. another worker processed these records meanwhile.
   */
  commit(position?: { source: string; offset: number }, expected?: number): void {
    this.runtime.reorder.persist(this.writes);
    this.writes.commit(position, expected);
  }
}
