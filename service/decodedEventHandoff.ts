/**
 * Hands the events the store sync decoded to the detector worker that reads the same bus records next, so each record
 * of the embedded path is parsed and schema-checked once (issue 13 item 4). The two loops stay separate consumers, each
 * with its own durable position and commit (the crash guarantees of storeSync.ts and busDetectWorker.ts are
 * unchanged): this only saves work. A hand-off is used only when the worker's record has the very text the sync
 * decoded (decoding is a function of the text), so a bus reset or another topic can never hand over a wrong event.
 * It goes one way, sync to worker, because the store is done with an event once it is ingested while detectors may
 * keep and annotate what they are given.
 */
import type { DecodedEvent } from '../pipeline/recordCodec.js';

/** Decoded records a store sync put for the worker, by bus offset, until the worker takes them. */
export class DecodedEventHandoff {
  private readonly byOffset = new Map<number, { value: string; decoded: DecodedEvent }>();

  /** At most `capacity` records wait; beyond it the oldest is dropped (the worker then decodes it itself). */
  constructor(private readonly capacity = 20_000) {}

  /** Records waiting (for tests and the bench). */
  get size(): number {
    return this.byOffset.size;
  }

  /** Offers the worker the decoding of the record at `offset`, whose text is `value`. */
  put(offset: number, value: string, decoded: DecodedEvent): void {
    if (this.byOffset.size >= this.capacity) this.byOffset.delete(this.byOffset.keys().next().value as number);
    this.byOffset.set(offset, { value, decoded });
  }

  /**
   * The decoding put for the record at `offset` if it was put for this same text; it is handed over once. What waits
   * for offsets before it is dropped: the worker has read past them (a batch that went beyond what the sync had read).
   */
  take(offset: number, value: string): DecodedEvent | undefined {
    for (const passed of this.byOffset.keys()) {
      if (passed >= offset) break;
      this.byOffset.delete(passed);
    }
    const waiting = this.byOffset.get(offset);
    if (waiting === undefined) return undefined;
    this.byOffset.delete(offset);
    return waiting.value === value ? waiting.decoded : undefined;
  }
}
