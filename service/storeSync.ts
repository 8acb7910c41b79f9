/**
 * Moves events from the bus into the store exactly once. The store's own position for the topic (written in the same
 * transaction as the events) is the durable offset; the bus group commit that follows only feeds lag() and prune().
 */
import { TOPICS, type Bus, type ConsumedRecord, type OutgoingRecord } from '../pipeline/bus.js';
import { busSource, decodeEvent, encodeDeadLetter } from '../pipeline/recordCodec.js';
import type { Store } from '../pipeline/store.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';

export interface StoreSyncOptions {
  /** Topic to drain (default TOPICS.events). */
  topic?: string;
  /** Consumer group committed on the bus after each batch (default "store-sync"). */
  group?: string;
  /** Records read per batch (default 2000). */
  batchSize?: number;
}

export interface StoreSyncResult {
  read: number;
  inserted: number;
  duplicates: number;
  deadLettered: number;
}

/** Drains the topic into the store, from where the store's last batch ended, until the topic has nothing more. */
export async function syncStoreFromBus(bus: Bus, store: Store, options: StoreSyncOptions = {}): Promise<StoreSyncResult> {
  const topic = options.topic ?? TOPICS.events;
  const source = busSource(topic);
  const batchSize = options.batchSize ?? 2000;
  const result: StoreSyncResult = { read: 0, inserted: 0, duplicates: 0, deadLettered: 0 };
  const consumer = await bus.consumer(options.group ?? 'store-sync', topic);
  try {
    consumer.seek(await store.position(source));
    for (;;) {
      const records = await consumer.poll(batchSize);
      const last = records.at(-1);
      if (!last) return result;
      const { events, deadLetters } = sortRecords(topic, records);
      // Dead letters go out before the batch's position is stored: a crash in between re-sends them (at least once)
      // rather than losing them.
      if (deadLetters.length > 0) await bus.publish(TOPICS.deadLetters, deadLetters);
      const ingested = await store.ingestEvents(events, { source, offset: last.offset });
      await consumer.commit(last.offset);
      result.read += records.length;
      result.inserted += ingested.inserted;
      result.duplicates += ingested.duplicates;
      result.deadLettered += deadLetters.length;
    }
  } finally {
    await consumer.close();
  }
}

function sortRecords(topic: string, records: readonly ConsumedRecord[]): { events: McpEvent[]; deadLetters: OutgoingRecord[] } {
  const events: McpEvent[] = [];
  const deadLetters: OutgoingRecord[] = [];
  for (const record of records) {
    const decoded = decodeEvent(record.value);
    if ('event' in decoded) events.push(decoded.event);
    else deadLetters.push(encodeDeadLetter({ refusedBy: 'decoder', topic, ...record, error: decoded.error }));
  }
  return { events, deadLetters };
}
