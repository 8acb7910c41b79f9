/**
 * Moves events from the bus into the store exactly once. The store's own position for the topic (written in the same
 * transaction as the events) is the durable offset; the bus group commit that follows only feeds lag() and prune().
 * Beside a detector worker (`tapwire up`), the sync puts each batch it decoded into the worker's hand-off, so the worker
 * does not read, parse and check the same records again (service/decodedEventHandoff.ts).
 */
import { TOPICS, type Bus, type BusConsumer, type ConsumedRecord, type OutgoingRecord } from '../pipeline/bus.js';
import { busSource, decodeEvent, encodeDeadLetter } from '../pipeline/recordCodec.js';
import type { Store } from '../pipeline/store.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import type { DecodedEventHandoff, DecodedRecord } from './decodedEventHandoff.js';

export interface StoreSyncOptions {
  /** Topic to drain (default TOPICS.events). */
  topic?: string;
  /** Consumer group committed on the bus after each batch (default "store-sync"). */
  group?: string;
  /** Records read per batch (default 5000: bigger store transactions write each index page to the WAL fewer times). */
  batchSize?: number;
  /** Where to leave each decoded batch for the detector worker that reads the same records next. */
  handoff?: DecodedEventHandoff;
}

export interface StoreSyncResult {
  read: number;
  inserted: number;
  duplicates: number;
  deadLettered: number;
}

/** The store sync as a loop runs it, batch by batch, from where the store's last batch ended. */
export class StoreSync {
  private readonly topic: string;
  private readonly source: string;
  private consumer: BusConsumer | undefined;
  private last = -1;

  /** Nothing is read before start(). */
  constructor(
    private readonly bus: Bus,
    private readonly store: Store,
    private readonly options: StoreSyncOptions = {},
  ) {
    this.topic = options.topic ?? TOPICS.events;
    this.source = busSource(this.topic);
  }

  /** The offset of the last record the store holds (-1 before any). */
  get position(): number {
    return this.last;
  }

  /** Opens the consumer at the store's position. */
  async start(): Promise<void> {
    this.consumer = await this.bus.consumer(this.options.group ?? 'store-sync', this.topic);
    this.last = await this.store.position(this.source);
    this.consumer.seek(this.last);
  }

  /** Moves the next batch into the store; its `read` is 0 once the topic has nothing more. */
  async step(): Promise<StoreSyncResult> {
    if (!this.consumer) throw new Error('store sync: start() first');
    // A query command of another process catches the same store up from the same bus: skip what it has stored since.
    const stored = await this.store.position(this.source);
    if (stored > this.last) {
      this.consumer.seek(stored);
      this.last = stored;
    }
    // The consumer is at this.last: it was seeked there, or its previous poll ended there.
    const after = this.last;
    const records = await this.consumer.poll(this.options.batchSize ?? 5000);
    const last = records.at(-1);
    if (!last) return { read: 0, inserted: 0, duplicates: 0, deadLettered: 0 };
    const decoded = records.map((record) => ({ offset: record.offset, decoded: decodeEvent(record.value) }));
    const { events, deadLetters } = this.sortRecords(records, decoded);
    // Dead letters go out before the batch's position is stored: a crash in between re-sends them (at least once)
    // rather than losing them.
    if (deadLetters.length > 0) await this.bus.publish(TOPICS.deadLetters, deadLetters);
    const ingested = await this.store.ingestEvents(events, { source: this.source, offset: last.offset });
    this.last = last.offset;
    await this.consumer.commit(last.offset);
    this.options.handoff?.put(this.bus, this.topic, { after, records: decoded });
    return { read: records.length, inserted: ingested.inserted, duplicates: ingested.duplicates, deadLettered: deadLetters.length };
  }

  /** Closes the consumer (the bus and store belong to the caller). */
  async close(): Promise<void> {
    await this.consumer?.close();
    this.consumer = undefined;
  }

  private sortRecords(records: readonly ConsumedRecord[], decoded: readonly DecodedRecord[]): { events: McpEvent[]; deadLetters: OutgoingRecord[] } {
    const events: McpEvent[] = [];
    const deadLetters: OutgoingRecord[] = [];
    records.forEach((record, i) => {
      const result = (decoded[i] as DecodedRecord).decoded;
      if ('event' in result) events.push(result.event);
      else deadLetters.push(encodeDeadLetter({ refusedBy: 'decoder', topic: this.topic, ...record, error: result.error }));
    });
    return { events, deadLetters };
  }
}

/** Drains the topic into the store, from where the store's last batch ended, until the topic has nothing more. */
export async function syncStoreFromBus(bus: Bus, store: Store, options: StoreSyncOptions = {}): Promise<StoreSyncResult> {
  const sync = new StoreSync(bus, store, options);
  const result: StoreSyncResult = { read: 0, inserted: 0, duplicates: 0, deadLettered: 0 };
  await sync.start();
  try {
    for (;;) {
      const batch = await sync.step();
      if (batch.read === 0) return result;
      result.read += batch.read;
      result.inserted += batch.inserted;
      result.duplicates += batch.duplicates;
      result.deadLettered += batch.deadLettered;
    }
  } finally {
    await sync.close();
  }
}
