/**
 * Hands the batches the store sync decoded to the detector worker that reads the same bus records next, so each record
 * of the embedded path is read from the bus, parsed and schema-checked once (issue 13 item 4). The two loops stay
 * separate consumers, each with its own durable position and commit (the crash guarantees of storeSync.ts and
 * busDetectWorker.ts are unchanged): this only saves work.
 *
 * A batch is handed over whole, as "every record of the topic after offset A": the sync read it from A with one poll,
 * and a poll returns a prefix of the records after its position (embeddedBus.ts: offsets grow in commit order, and
 * prune() never deletes past a group's committed offset), so a worker positioned at A would have read the very same
 * records. Only a batch read from the worker's own bus object and topic is kept, and only one starting exactly at the
 * worker's position is taken. It goes one way, sync to worker, because the store is done with an event once it is
 * ingested while detectors may keep and annotate what they are given.
 */
import type { Bus } from '../pipeline/bus.js';
import type { DecodedEvent } from '../pipeline/recordCodec.js';

/** One record of a handed-over batch: its bus offset and what its text decoded to. */
export interface DecodedRecord {
  offset: number;
  decoded: DecodedEvent;
}

/** Every record of the topic after offset `after` up to the last one's offset, decoded, in offset order. */
export interface DecodedBatch {
  after: number;
  records: readonly DecodedRecord[];
}

/** Decoded batches a store sync put for the worker, by the offset each starts after, until the worker takes them. */
export class DecodedEventHandoff {
  private readonly byStart = new Map<number, DecodedBatch>();
  private waiting = 0;

  /**
   * For the worker reading `topic` of `bus`. At most `capacity` records wait; beyond it the oldest batches are dropped
   * (the worker then reads and decodes those records itself).
   */
  constructor(
    private readonly bus: Bus,
    private readonly topic: string,
    private readonly capacity = 20_000,
  ) {}

  /** Records waiting (for tests and the bench). */
  get size(): number {
    return this.waiting;
  }

  /** Offers the worker a batch the sync read from `topic` of `bus`; kept only when it is the worker's bus and topic. */
  put(bus: Bus, topic: string, batch: DecodedBatch): void {
    if (bus !== this.bus || topic !== this.topic || batch.records.length === 0) return;
    this.byStart.set(batch.after, batch);
    this.waiting += batch.records.length;
    for (const [start, oldest] of this.byStart) {
      if (this.waiting <= this.capacity) break;
      this.drop(start, oldest);
    }
  }

  /**
   * The batch that starts right after `position`, handed over once. Batches starting before it are dropped: the worker
   * has read past them (it read a batch of its own beyond what the sync had read).
   */
  take(position: number): DecodedBatch | undefined {
    for (const [start, batch] of this.byStart) if (start < position) this.drop(start, batch);
    const batch = this.byStart.get(position);
    if (batch !== undefined) this.drop(position, batch);
    return batch;
  }

  private drop(start: number, batch: DecodedBatch): void {
    this.byStart.delete(start);
    this.waiting -= batch.records.length;
  }
}
