/**
 * A deleted, replaced or truncated bus file starts its offsets again from 1, while the store still holds its
 * position in the old log: without a check, every new event would sit below that position and be skipped until the
 * new log caught up. A position past the log's end is the sign; the store's position then goes back to the start of
 * the new log.
 */
import { TOPICS } from '../bus.js';
import type { Store } from '../store.js';
import { busSource } from '../storeSync.js';
import type { EmbeddedBus } from './embeddedBus.js';

/** What a reset moved: the position the store had, and the end of the log it found. */
export interface BusReset {
  previousPosition: number;
  logEnd: number;
}

/** Resets the store's position for the events topic when it is past the bus log's end; undefined when it is not. */
export async function resetPositionsPastLogEnd(bus: EmbeddedBus, store: Store): Promise<BusReset | undefined> {
  const source = busSource(TOPICS.events);
  const previousPosition = await store.position(source);
  const logEnd = bus.logEnd();
  if (previousPosition <= logEnd) return undefined;
  await store.ingestEvents([], { source, offset: -1 });
  return { previousPosition, logEnd };
}
