/**
 * One partition of the test broker: record batches (magic 2) stored exactly as produced, with only the baseOffset
 * rewritten to the partition's next offset. The CRC-32C covers the bytes from the attributes onwards, so rewriting the
 * offset (and the leader epoch before it) keeps every batch valid for the consumer that fetches it.
 *
 * Idempotent producers are honoured as a broker does: a batch whose producer id and sequence were already written is
 * acknowledged with its original offset instead of being appended twice, and a sequence gap is refused.
 */
/// <reference path="./crc32c.d.ts" />
import crc32C from 'kafkajs/src/protocol/recordBatch/crc32C/index.js';
import { ERROR } from './errorCodes.js';

/** The fixed header of a v2 record batch: offsets of its fields and its length. */
const BATCH = { baseOffset: 0, length: 8, magic: 16, crc: 17, attributes: 21, lastOffsetDelta: 23, maxTimestamp: 35, producerId: 43, producerEpoch: 51, baseSequence: 53, headerSize: 61 } as const;

interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  bytes: Buffer;
}

interface ProducerState {
  epoch: number;
  lastSequence: number;
  /** baseSequence → baseOffset of the batches written most recently (a broker remembers the last five). */
  recent: Map<number, number>;
}

/** The outcome of appending one produce request's record set. */
export interface AppendResult {
  error: number;
  baseOffset: number;
}

/** An in-memory log of record batches. */
export class PartitionLog {
  private readonly batches: StoredBatch[] = [];
  private readonly producers = new Map<number, ProducerState>();
  private next = 0;
  private waiters: (() => void)[] = [];

  /** The offset the next record gets (the high watermark: every write is committed at once). */
  get highWatermark(): number {
    return this.next;
  }

  /** The first offset still held. */
  get logStartOffset(): number {
    return this.batches[0]?.baseOffset ?? this.next;
  }

  /** Appends every batch of a produce request's record set; the first error refuses the rest. */
  append(recordSet: Buffer): AppendResult {
    let at = 0;
    let first = -1;
    while (at < recordSet.length) {
      if (recordSet.length - at < BATCH.headerSize) return { error: ERROR.CORRUPT_MESSAGE, baseOffset: -1 };
      const size = 12 + recordSet.readInt32BE(at + BATCH.length);
      const batch = Buffer.from(recordSet.subarray(at, at + size));
      at += size;
      const result = this.appendBatch(batch);
      if (result.error !== ERROR.NONE) return result;
      if (first < 0) first = result.baseOffset;
    }
    return { error: ERROR.NONE, baseOffset: first };
  }

  /** Whole batches holding `fetchOffset` and later, up to `maxBytes` (always at least one batch). */
  read(fetchOffset: number, maxBytes: number): Buffer {
    const selected: Buffer[] = [];
    let bytes = 0;
    for (const batch of this.batches) {
      if (batch.lastOffset < fetchOffset) continue;
      if (selected.length > 0 && bytes + batch.bytes.length > maxBytes) break;
      selected.push(batch.bytes);
      bytes += batch.bytes.length;
    }
    return Buffer.concat(selected);
  }

  /** ListOffsets: -1 is the latest offset, -2 the earliest, else the first offset with a timestamp at or after `time`. */
  offsetForTime(time: number): number {
    if (time === -1) return this.next;
    if (time === -2) return this.logStartOffset;
    return this.batches.find((b) => b.maxTimestamp >= time)?.baseOffset ?? this.next;
  }

  /** Resolves when a record arrives or `ms` passes, for fetches that wait for data. */
  waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.push(done);
    });
  }

  private appendBatch(batch: Buffer): AppendResult {
    if (batch.readInt8(BATCH.magic) !== 2) return { error: ERROR.UNSUPPORTED_FOR_MESSAGE_FORMAT, baseOffset: -1 };
    if (crc32C(batch.subarray(BATCH.attributes)) !== batch.readUInt32BE(BATCH.crc)) return { error: ERROR.CORRUPT_MESSAGE, baseOffset: -1 };
    const producerId = Number(batch.readBigInt64BE(BATCH.producerId));
    const sequence = batch.readInt32BE(BATCH.baseSequence);
    const count = batch.readInt32BE(BATCH.lastOffsetDelta) + 1;
    if (producerId >= 0) {
      const epoch = batch.readInt16BE(BATCH.producerEpoch);
      const state = this.producers.get(producerId);
      if (state && state.epoch === epoch) {
        const duplicate = state.recent.get(sequence);
        if (duplicate !== undefined) return { error: ERROR.NONE, baseOffset: duplicate };
        if (sequence !== state.lastSequence + 1) return { error: ERROR.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1 };
      }
    }
    const baseOffset = this.next;
    batch.writeBigInt64BE(BigInt(baseOffset), BATCH.baseOffset);
    this.batches.push({ baseOffset, lastOffset: baseOffset + count - 1, maxTimestamp: Number(batch.readBigInt64BE(BATCH.maxTimestamp)), bytes: batch });
    this.next += count;
    if (producerId >= 0) this.remember(producerId, batch.readInt16BE(BATCH.producerEpoch), sequence, count, baseOffset);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    return { error: ERROR.NONE, baseOffset };
  }

  private remember(producerId: number, epoch: number, sequence: number, count: number, baseOffset: number): void {
    let state = this.producers.get(producerId);
    if (!state || state.epoch !== epoch) {
      state = { epoch, lastSequence: -1, recent: new Map() };
      this.producers.set(producerId, state);
    }
    state.lastSequence = sequence + count - 1;
    state.recent.set(sequence, baseOffset);
    if (state.recent.size > 5) state.recent.delete(state.recent.keys().next().value as number);
  }
}
