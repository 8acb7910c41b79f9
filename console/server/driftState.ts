/** Opens the home's detector state (state.sqlite) for one piece of work, if the detectors have written it. */
import { existsSync } from 'node:fs';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';

export async function withDriftState<T>(file: string, work: (state: EmbeddedStateStore | undefined) => T | Promise<T>): Promise<T> {
  if (!existsSync(file)) return work(undefined);
  const state = new EmbeddedStateStore(file);
  try {
    return await work(state);
  } finally {
    state.close();
  }
}
