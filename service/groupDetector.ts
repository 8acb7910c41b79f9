/**
 * `tapwire detect` and `tapwire up` when tapwire.yaml selects Kafka (or Elasticsearch as the store): a member of the
 * "detectors" consumer group (GroupDetectWorker), which indexes events into the configured store, runs the rules and
 * detectors with state partitioned like the topics, stores alerts, and runs the detectors' roll-ups on a cron
 * schedule as the embedded `tapwire up` does. Each partition's state is a SQLite file under <home>/partition-state:
 * workers that can take over each other's partitions must share that directory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { schedule } from 'node-cron';
import { EmbeddedStateStore } from '../detectors/embeddedStateStore.js';
import { describeBus, openBus } from '../pipeline/busFactory.js';
import { loadConfig, redactConfig, type TapwireConfig } from '../pipeline/config.js';
import { ensureHome, type HomePaths } from '../pipeline/home.js';
import type { Logger } from '../pipeline/logger.js';
import { ChoiceError } from './choiceError.js';
import { openWorkerStore } from './configuredStore.js';
import { loadDetection } from './detectionSetup.js';
import { GroupDetectWorker } from './groupDetectWorker.js';
import type { StopSignal } from './stopSignal.js';

/** When roll-ups run unless told otherwise: every 5 minutes, as `tapwire up`. */
export const DEFAULT_ROLLUP_CRON = '*/5 * * * *';

export interface GroupDetectorOptions {
  home?: string;
  rules?: string;
  inventory?: string;
  /** Cron expression of the roll-ups (default DEFAULT_ROLLUP_CRON). */
  rollup?: string;
  logger: Logger;
  stop: StopSignal;
}

/** What `detect` and `up` pass on from their options. */
export interface DetectorCommandOptions {
  config?: string;
  home?: string;
  rules?: string;
  inventory?: string;
  rollup?: string;
  once?: boolean;
}

/** Where the group members of a home keep each partition's detector state. */
export function partitionStateDir(home: HomePaths): string {
  return join(home.root, 'partition-state');
}

/**
 * Runs the group member when tapwire.yaml selects anything but the embedded bus and store, and returns its exit
 * code; undefined means the embedded pair is configured and the command runs its embedded worker.
 */
export async function runGroupDetectorIfConfigured(options: DetectorCommandOptions, logger: Logger, stop: StopSignal): Promise<number | undefined> {
  const config = loadConfig({ ...(options.config ? { file: options.config } : {}), ...(options.home ? { home: options.home } : {}) });
  if (config.bus === 'embedded' && config.store === 'embedded') return undefined;
  if (options.once) throw new ChoiceError(`--once needs the embedded bus (${config.source ?? 'the environment'} selects bus ${config.bus}, store ${config.store})`);
  const { home, rules, inventory, rollup } = options;
  return runGroupDetector(config, { ...(home ? { home } : {}), ...(rules ? { rules } : {}), ...(inventory ? { inventory } : {}), ...(rollup ? { rollup } : {}), logger, stop });
}

/** Runs a group member until SIGINT/SIGTERM (or until its group membership fails); returns the exit code. */
export async function runGroupDetector(config: TapwireConfig, options: GroupDetectorOptions): Promise<number> {
  const { logger } = options;
  const paths = ensureHome(options.home ?? config.home);
  const bus = openBus(config, { home: paths, role: 'worker', logger });
  const store = openWorkerStore(config, paths, bus, logger);
  const stateDir = partitionStateDir(paths);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const worker = new GroupDetectWorker({
    bus,
    store,
    logger,
    openState: (topic, partition) => new EmbeddedStateStore(join(stateDir, `${topic}.${partition}.sqlite`)),
    createRuntime: (state, partitionBy) =>
      loadDetection(state, { ...(options.rules ? { rules: options.rules } : {}), ...(options.inventory ? { inventory: options.inventory } : {}), logger, partitionBy }).runtime,
  });
  const rollup = options.rollup ?? DEFAULT_ROLLUP_CRON;
  const rollups = schedule(rollup, async () => logger.info({ alerts: await worker.tick() }, 'roll-up done'), { name: 'tapwire-group-rollup', noOverlap: true });
  try {
    await worker.start();
    logger.info({ bus: describeBus(config, paths), store: config.store, stateDir, rollup, config: redactConfig(config) }, 'detector group member started');
    await Promise.race([options.stop.promise, worker.done]);
    return 0;
  } finally {
    await rollups.destroy();
    await worker.stop();
    logger.info({ ...worker.totals }, 'detector group member stopped');
    await store.close();
    await bus.close();
  }
}
