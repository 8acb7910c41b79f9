/**
 * `tapwire detect` and `tapwire up` when tapwire.yaml selects Kafka (or Elasticsearch as the store): a member of the
 * "detectors" consumer group (GroupDetectWorker), which indexes events into the configured store, runs the rules and
 * detectors with state partitioned like the topics, and stores alerts. Each partition's state is a SQLite file under
 * <home>/partition-state: workers that can take over each other's partitions must share that directory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedStateStore } from '../detectors/embeddedStateStore.js';
import { GroupDetectWorker } from '../detectors/groupDetectWorker.js';
import { describeBus, openBus } from '../pipeline/busFactory.js';
import { loadConfig, redactConfig, type TapwireConfig } from '../pipeline/config.js';
import { EmbeddedStore } from '../pipeline/embedded/embeddedStore.js';
import { ensureHome } from '../pipeline/home.js';
import type { Logger } from '../pipeline/logger.js';
import type { Store } from '../pipeline/store.js';
import type { Bus } from '../pipeline/bus.js';
import { elasticsearchSettings, openEsStore, publishDeadLetters } from './configuredStore.js';
import { loadDetection } from './detectionSetup.js';
import type { StopSignal } from './stopSignal.js';
import { UsageError } from './usage.js';

export interface GroupDetectorOptions {
  home?: string;
  rules?: string;
  inventory?: string;
  logger: Logger;
  stop: StopSignal;
}

/** What `detect` and `up` pass on from their options. */
export interface DetectorCommandOptions {
  config?: string;
  home?: string;
  rules?: string;
  inventory?: string;
  once?: boolean;
}

/**
 * Runs the group member when tapwire.yaml selects anything but the embedded bus and store, and returns its exit
 * code; undefined means the embedded pair is configured and the command runs its embedded worker.
 */
export async function runGroupDetectorIfConfigured(options: DetectorCommandOptions, logger: Logger, stop: StopSignal): Promise<number | undefined> {
  const config = loadConfig({ ...(options.config ? { file: options.config } : {}), ...(options.home ? { home: options.home } : {}) });
  if (config.bus === 'embedded' && config.store === 'embedded') return undefined;
  if (options.once) throw new UsageError(`--once needs the embedded bus (${config.source ?? 'the environment'} selects bus ${config.bus}, store ${config.store})`);
  return runGroupDetector(config, { ...(options.home ? { home: options.home } : {}), ...(options.rules ? { rules: options.rules } : {}), ...(options.inventory ? { inventory: options.inventory } : {}), logger, stop });
}

/** Runs a group member until SIGINT/SIGTERM (or until its group membership fails); returns the exit code. */
export async function runGroupDetector(config: TapwireConfig, options: GroupDetectorOptions): Promise<number> {
  const { logger } = options;
  const paths = ensureHome(options.home ?? config.home);
  const bus = openBus(config, { home: paths, role: 'worker', logger });
  const store = openConfiguredStore(config, paths.store, bus, logger);
  const stateDir = join(paths.root, 'partition-state');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const worker = new GroupDetectWorker({
    bus,
    store,
    logger,
    openState: (topic, partition) => new EmbeddedStateStore(join(stateDir, `${topic}.${partition}.sqlite`)),
    createRuntime: (state, partitionBy) =>
      loadDetection(state, { ...(options.rules ? { rules: options.rules } : {}), ...(options.inventory ? { inventory: options.inventory } : {}), logger, partitionBy }).runtime,
  });
  try {
    await worker.start();
    logger.info({ bus: describeBus(config, paths), store: config.store, stateDir, config: redactConfig(config) }, 'detector group member started');
    await Promise.race([options.stop.promise, worker.done]);
    return 0;
  } finally {
    await worker.stop();
    logger.info({ ...worker.totals }, 'detector group member stopped');
    await store.close();
    await bus.close();
  }
}

/** The configured store; Elasticsearch dead letters go to the bus's dead-letter topic. */
function openConfiguredStore(config: TapwireConfig, embeddedFile: string, bus: Bus, logger: Logger): Store {
  if (config.store === 'elasticsearch') return openEsStore(elasticsearchSettings(config), { deadLetters: publishDeadLetters(bus), logger });
  return new EmbeddedStore(embeddedFile);
}
