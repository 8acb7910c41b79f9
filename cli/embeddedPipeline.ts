/** Opens the embedded bus and store of a Tapwire home for the query commands, catching the store up first. */
import { existsSync } from 'node:fs';
import { EmbeddedBus } from '../pipeline/embedded/embeddedBus.js';
import { EmbeddedStore } from '../pipeline/embedded/embeddedStore.js';
import { resolveHome, type HomePaths } from '../pipeline/home.js';
import { syncStoreFromBus } from '../pipeline/storeSync.js';
import { recoverHomeHandoffs } from '../collectors/stdio/handoffRecovery.js';
import { noticeBusReset } from './busResetNotice.js';

export interface EmbeddedPipeline {
  paths: HomePaths;
  bus: EmbeddedBus;
  store: EmbeddedStore;
  close(): Promise<void>;
}

/** Opens a home's bus and store and moves every pending bus event into the store, after recording what taps handed off. */
export async function openEmbeddedPipeline(home?: string): Promise<EmbeddedPipeline> {
  const paths = resolveHome(home);
  const recover = (): Promise<unknown> => recoverHomeHandoffs({ ...(home ? { home } : {}), warn: (message) => process.stderr.write(`tapwire: ${message}\n`) });
  // A session handed off before anything reached the bus is the home's only data: it creates the bus.
  if (!existsSync(paths.bus)) await recover();
  if (!existsSync(paths.bus)) throw new Error(`no Tapwire data in ${paths.root} (run 'tapwire demo', or put a server behind 'tapwire tap')`);
  // Opened first, so an unusable bus is reported once, by the open, not again by the recovery.
  const bus = new EmbeddedBus(paths.bus);
  const store = new EmbeddedStore(paths.store);
  await recover();
  await noticeBusReset(bus, store, (message) => process.stderr.write(`tapwire: ${message}\n`));
  await syncStoreFromBus(bus, store);
  return {
    paths,
    bus,
    store,
    close: async () => {
      await store.close();
      await bus.close();
    },
  };
}

/** Runs `work` against a home's caught-up pipeline and closes it afterwards; returns the exit code. */
export async function withEmbeddedPipeline(home: string | undefined, work: (pipeline: EmbeddedPipeline) => Promise<void>): Promise<number> {
  const pipeline = await openEmbeddedPipeline(home);
  try {
    await work(pipeline);
    return 0;
  } finally {
    await pipeline.close();
  }
}
