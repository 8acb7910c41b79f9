/**
 * What `detect`, `up`, `replay` and the demo run: the rule pack (a RuleSet over --rules DIR, the shipped pack by
 * default), the approved inventory (--inventory FILE), and every registered stateful detector, over a state store.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BusDetectWorker } from './busDetectWorker.js';
import type { ContentModel } from '../detectors/content/model/contentModel.js';
import { DetectorRuntime } from '../detectors/detectorRuntime.js';
import { EmbeddedStateStore } from '../detectors/embeddedStateStore.js';
import { loadInventoryFile } from '../detectors/inventory/inventoryFile.js';
import type { Inventory } from '../detectors/inventory/inventory.js';
import type { PartitionBy } from '../detectors/detector.js';
import { createDetectors } from '../detectors/registry.js';
import { RuleSet } from '../detectors/sigma/ruleSet.js';
import type { StateStore } from '../detectors/stateStore.js';
import { EmbeddedBus } from '../pipeline/embedded/embeddedBus.js';
import { EmbeddedStore } from '../pipeline/embedded/embeddedStore.js';
import { ensureHome, type HomePaths } from '../pipeline/home.js';
import type { Logger } from '../pipeline/logger.js';
import { packageRoot } from '../pipeline/packagePaths.js';
import { ChoiceError } from './choiceError.js';

export interface DetectionOptions {
  /** Rule directory; default the shipped pack. */
  rules?: string;
  /** Inventory file, if one is configured. */
  inventory?: string;
  logger?: Logger;
  /** Told about each rule that does not compile (FILE:LINE message). */
  onRuleError?: (message: string) => void;
  /**
   * Only the detectors of this partitioning (a Kafka worker's runtime for one partition of a keyed topic); the rules
   * run with the host_session ones. Default: every detector and the rules.
   */
  partitionBy?: PartitionBy;
  /** The learned tier's model; default the shipped one. */
  contentModel?: ContentModel;
}

/** The loaded detection: rule set, inventory, and a runtime over `state`. */
export interface Detection {
  ruleSet: RuleSet;
  inventory: Inventory | undefined;
  runtime: DetectorRuntime;
}

/** How long (event time) an event waits for late events of other sessions: taps publish off the traffic path. */
export const REORDER_LATENESS_MS = 2000;

/** The shipped rule pack directory. */
export function shippedRulesDir(): string {
  return join(packageRoot(), 'rules');
}

/** Loads rules and inventory and builds a runtime over `state`; a bad inventory throws its FILE:LINE errors. */
export function loadDetection(state: StateStore, options: DetectionOptions = {}): Detection {
  const dir = options.rules ?? shippedRulesDir();
  if (!existsSync(dir)) throw new ChoiceError(`--rules: ${dir} does not exist`);
  const inventory = options.inventory === undefined ? undefined : loadInventoryFile(options.inventory);
  const ruleSet = RuleSet.load(dir, {
    ...(options.logger ? { logger: options.logger } : {}),
    onReload: (report) => {
      for (const error of report.errors) options.onRuleError?.(error.message);
    },
  });
  const runtime = new DetectorRuntime(state, {
    detectors: createDetectors({ inventory, ...(options.contentModel ? { contentModel: options.contentModel } : {}) }).filter((d) => options.partitionBy === undefined || d.partitionBy === options.partitionBy),
    ...(options.partitionBy === 'server' ? {} : { rules: ruleSet }),
    reorderLatenessMs: REORDER_LATENESS_MS,
    onDetectorError: (error, detector, event) => options.logger?.error({ detector, event: event?.event.id, err: error }, 'detector failed on an event'),
  });
  return { ruleSet, inventory, runtime };
}

/** The embedded pipeline of a home with a detector worker over it, as `detect` and `up` run it. */
export interface HomeDetector {
  paths: HomePaths;
  bus: EmbeddedBus;
  store: EmbeddedStore;
  state: EmbeddedStateStore;
  detection: Detection;
  worker: BusDetectWorker;
  close(): Promise<void>;
}

/** Opens (creating if needed) a home's bus, store and state, loads detection, and starts the worker. */
export async function openHomeDetector(home: string | undefined, options: DetectionOptions & { batchSize?: number }): Promise<HomeDetector> {
  const paths = ensureHome(home);
  const bus = new EmbeddedBus(paths.bus);
  const store = new EmbeddedStore(paths.store);
  const state = new EmbeddedStateStore(paths.state);
  const closeAll = async (): Promise<void> => {
    state.close();
    await store.close();
    await bus.close();
  };
  try {
    const detection = loadDetection(state, options);
    const worker = new BusDetectWorker({ bus, store, runtime: detection.runtime, ...(options.batchSize ? { batchSize: options.batchSize } : {}), ...(options.logger ? { logger: options.logger } : {}) });
    await worker.start();
    return {
      paths,
      bus,
      store,
      state,
      detection,
      worker,
      close: async () => {
        await worker.close();
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
