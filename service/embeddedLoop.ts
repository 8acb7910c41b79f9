/**
 * The embedded pipeline's main loop, as `tapwire detect` and `tapwire up` run it: the store sync (bus → store, `up`
 * only) a batch at a time, the detector worker's batches just behind it (each record decoded once, by the sync), the release of events held for reordering and the recording of taps' hand-offs once the bus is idle, and the
 * scheduled jobs (node-cron): roll-ups (Detector.onTick at the event-time watermark) and pruning of bus records every
 * consumer has processed. Jobs only raise flags; the loop runs them between batches, so nothing touches the state or
 * the store concurrently.
 */
import { schedule, type ScheduledTask } from 'node-cron';
import { TOPICS } from '../pipeline/bus.js';
import type { Logger } from '../pipeline/logger.js';
import type { HomeDetector } from './detectionSetup.js';
import type { StopSignal } from './stopSignal.js';
import { StoreSync } from './storeSync.js';

const IDLE_POLL_MS = 250;
/** Records kept behind the detector position for the rule pack's warm-up after a restart. */
const KEEP_BEHIND = 10_000;

export interface EmbeddedLoopOptions {
  logger: Logger;
  stop: StopSignal;
  /** Process what the bus holds, release everything held, and return (`detect --once`). */
  once?: boolean;
  /** Also move events from the bus into the store (`up`; the query commands do it otherwise). */
  syncStore?: boolean;
  /** Cron expression of the roll-ups; none without it. */
  rollup?: string;
  /** Cron expression of bus pruning; none without it. */
  prune?: string;
  /** Called after each step that may have raised alerts (`up` prints them). */
  afterAlerts?: () => Promise<unknown>;
  /**
   * Records what taps handed off (handoffRecovery.ts), run whenever the bus is idle: a tap starved of CPU hands its
   * session off at exit, and while this loop runs no other command may come to record it.
   */
  recoverHandoffs?: () => Promise<{ sessions: number }>;
}

/** Runs the loop over a home's bus, store and started worker until stopped (or, with `once`, until the bus is drained). */
export async function runEmbeddedLoop(detector: Pick<HomeDetector, 'bus' | 'store' | 'worker'>, options: EmbeddedLoopOptions): Promise<void> {
  const { bus, store, worker } = detector;
  const { logger, stop } = options;
  const sync = options.syncStore ? new StoreSync(bus, store, { handoff: worker.handoff }) : undefined;
  await sync?.start();
  const afterAlerts = options.afterAlerts ?? (async () => undefined);
  const due = { rollup: false, prune: false };
  const tasks: ScheduledTask[] = [];
  if (options.rollup) tasks.push(schedule(options.rollup, () => void (due.rollup = true), { name: 'tapwire-rollup', noOverlap: true }));
  if (options.prune) tasks.push(schedule(options.prune, () => void (due.prune = true), { name: 'tapwire-prune', noOverlap: true }));
  try {
    while (!stop.stopping) {
      let synced = 0;
      if (sync) {
        const batch = await sync.step();
        synced = batch.read;
        if (batch.deadLettered > 0) logger.warn({ deadLettered: batch.deadLettered }, 'invalid events moved to the dead-letter topic');
      }
      // The worker follows the sync batch by batch, so it reads what the sync has just decoded (and handed off).
      let read = 0;
      while (!stop.stopping && (synced === 0 || worker.committedOffset < (sync?.position ?? -1)) && (read = await worker.step()) > 0) await afterAlerts();
      if (due.rollup) {
        due.rollup = false;
        logger.info({ alerts: await worker.tick() }, 'roll-up done');
        await afterAlerts();
      }
      if (due.prune) {
        due.prune = false;
        logger.info({ pruned: bus.prune(TOPICS.events, worker.committedOffset - KEEP_BEHIND) }, 'bus pruned');
      }
      if (synced > 0 || read > 0) continue;
      if (options.recoverHandoffs && (await options.recoverHandoffs()).sessions > 0) continue;
      if (options.once) {
        await worker.releaseHeld();
        await afterAlerts();
        return;
      }
      await worker.releaseLate(Date.now());
      await afterAlerts();
      await stop.sleep(IDLE_POLL_MS);
    }
    await afterAlerts();
  } finally {
    for (const task of tasks) await task.destroy();
    await sync?.close();
  }
}
