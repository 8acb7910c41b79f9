/**
 * A single-producer, single-consumer ring of byte chunks in a SharedArrayBuffer: the forwarding
 * thread copies each chunk in (one memcpy, no allocation, never a wait) and the observer worker
 * reads it out. Its fixed size is the whole memory the tap spends on chunks the observer has not
 * released yet; when it is full, the producer accepts less and puts the rest elsewhere (a spill file).
 *
 * A retaining consumer reads ahead of what it releases: a chunk stays in the ring until what was made
 * of it is durable, so that when the tap must exit before the observer has caught up, the producer can
 * hand every chunk not yet recorded to disk (see handoffFile.ts) instead of losing it.
 *
 * Each frame must then be recorded exactly once, by the consumer or through the hand-off, so the two
 * agree on who records what with a stop/acknowledge handshake over one state slot: the consumer
 * publishes only inside beginPublish()/endPublish() (and releases inside it too); the producer asks it
 * to stop, and either the consumer acknowledges (handing over everything it holds, see
 * stdioObserver.ts) or the producer takes the ring over while the consumer is not publishing. A
 * consumer starved of CPU cannot hold the producer beyond its deadline, except while it is inside a
 * publish, whose outcome the producer cannot know (awaitStop() says so).
 */

/** Int32 slots of the header: monotonic byte counters (mod 2^32), the consumer's sleep flag, the handshake state. */
const HEAD = 0;
const TAIL = 1;
const CONSUMER_WAITING = 2;
const STATE = 3;
/** Int32 slot the producer sets to ask the consumer to stop. */
const STOP_REQUESTED = 4;
/** Int32 slots the consumer writes (plainly) before each release: their count, and its checkpoint's length. */
const RELEASES = 5;
const CHECKPOINT_LENGTH = 6;
/** Values of the STATE slot. */
const IDLE = 0;
const PUBLISHING = 1;
const ACKNOWLEDGED = 2;
const TAKEN = 3;
const HEADER_BYTES = 64;
/** Per record: int32 length (-1 marks a wrap), uint8 direction, float64 time. */
const RECORD_HEADER = 16;
const WRAP = -1;

const align8 = (n: number): number => (n + 7) & ~7;

/** Atomics.waitAsync: in Node 20's V8, but typed only in the ES2024 lib, which would also admit APIs Node 20 lacks. */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

export interface RingChunk {
  dir: 0 | 1;
  /** The ring position right after this record: what release() takes once it is durable. */
  end: number;
  timestampMs: number;
  /** A view into shared memory: valid only until the visitor returns. */
  bytes: Buffer;
}

/** What a retaining consumer left at its last release: its checkpoint (in the consumer's own format). */
export interface ReleasePoint {
  /** Releases so far: 0 means not even the session's first event is known to be recorded. */
  releases: number;
  /** The checkpoint of the last release, if there was one. */
  checkpoint: Buffer | undefined;
}

/**
 * How a stop ended: the consumer acknowledged it (and handed over what it holds); the producer took the ring
 * over between two publishes; or took it over while a publish was still in flight, whose events may then
 * be recorded twice (by that publish and through the hand-off).
 */
export type StopOutcome = 'acknowledged' | 'taken' | 'taken-during-publish';

/** A chunk kept for later recording: still in the ring at hand-off, or spilled; `lostBefore` bytes of its direction were not kept before it. */
export interface HeldChunk {
  dir: 0 | 1;
  timestampMs: number;
  lostBefore: number;
  bytes: Buffer;
}

export class ChunkRing {
  private readonly header: Int32Array;
  private readonly checkpoint: Buffer;
  /** The consumer's read position; ahead of TAIL while a retaining consumer holds records. */
  private cursor: number;
  /** Producer: bytes of each direction that entered the ring. */
  private readonly written = [0, 0];
  private readonly data: Buffer;
  private readonly view: DataView;
  private readonly mask: number;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly retaining = false,
  ) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.cursor = Atomics.load(this.header, TAIL) >>> 0;
    // The data area is the largest power of two that fits after the header; the checkpoint area takes the rest.
    const dataBytes = 2 ** Math.floor(Math.log2(buffer.byteLength - HEADER_BYTES));
    this.checkpoint = Buffer.from(buffer, HEADER_BYTES, buffer.byteLength - HEADER_BYTES - dataBytes);
    this.data = Buffer.from(buffer, buffer.byteLength - dataBytes);
    this.view = new DataView(buffer, buffer.byteLength - dataBytes);
    this.mask = this.data.length - 1;
  }

  /**
   * A new ring of `capacity` bytes (rounded up to a power of two, at least 64 KiB), with room for a consumer's
   * checkpoint of up to `checkpointBytes` (less than the ring's size; memory pages untouched cost nothing).
   */
  static create(capacity: number, checkpointBytes = 0): ChunkRing {
    const size = 2 ** Math.ceil(Math.log2(Math.max(capacity, 65536)));
    return new ChunkRing(new SharedArrayBuffer(HEADER_BYTES + Math.min(checkpointBytes, size - 1) + size));
  }

  /**
   * The consumer's handle on a ring created by the producer. A retaining consumer frees records only
   * through release(); otherwise each record is freed as soon as it has been visited.
   */
  static attach(buffer: SharedArrayBuffer, options: { retain?: boolean } = {}): ChunkRing {
    return new ChunkRing(buffer, options.retain ?? false);
  }

  /**
   * Producer: copies `bytes` in, in pieces if it is large; returns how many bytes (a prefix) got in. The
   * rest is the caller's to put elsewhere, or to count with skip().
   */
  write(dir: 0 | 1, timestampMs: number, bytes: Uint8Array): number {
    const maxPiece = (this.data.length >> 2) - RECORD_HEADER;
    for (let offset = 0; offset < bytes.length; offset += maxPiece) {
      const piece = bytes.subarray(offset, offset + maxPiece);
      if (!this.writeRecord(dir, timestampMs, piece)) return offset;
      this.written[dir]! += piece.length;
    }
    return bytes.length;
  }


  /** Consumer: visits every complete record now in the ring, at most `maxRecords`; returns how many it visited. */
  read(visit: (chunk: RingChunk) => void, maxRecords = Infinity): number {
    let tail = this.cursor;
    let visited = 0;
    while (visited < maxRecords) {
      const head = Atomics.load(this.header, HEAD) >>> 0;
      if (tail === head) break;
      const pos = tail & this.mask;
      const length = this.view.getInt32(pos, true);
      if (length === WRAP) {
        tail = (tail + this.data.length - pos) >>> 0;
      } else {
        const end = (tail + align8(RECORD_HEADER + length)) >>> 0;
        visit({ ...this.recordAt(pos), end });
        tail = end;
        visited++;
      }
      this.cursor = tail;
      // Without retention, each record's space goes back to the producer as soon as it has been visited.
      if (!this.retaining) Atomics.store(this.header, TAIL, tail | 0);
    }
    return visited;
  }

  /**
   * Retaining consumer: frees the records before `position` (a RingChunk's `end`), whose frames are all
   * recorded, together with a checkpoint of that durable point (what a hand-off continues from). The
   * checkpoint is written first, so a producer that sees the new position also sees it.
   */
  release(position: number, checkpoint: Uint8Array): void {
    if (checkpoint.length > this.checkpoint.length) throw new RangeError(`a checkpoint of ${checkpoint.length} bytes exceeds the ring's ${this.checkpoint.length}`);
    this.checkpoint.set(checkpoint);
    this.header[CHECKPOINT_LENGTH] = checkpoint.length;
    this.header[RELEASES] = this.header[RELEASES]! + 1;
    Atomics.store(this.header, TAIL, position | 0);
  }

  /** The most bytes a checkpoint may take. */
  get checkpointCapacity(): number {
    return this.checkpoint.length;
  }

  /** Producer: bytes of a direction that entered the ring so far. */
  writtenBytes(dir: 0 | 1): number {
    return this.written[dir]!;
  }

  /** Producer: asks the consumer to stop, and wakes it if it sleeps. */
  requestStop(): void {
    Atomics.store(this.header, STOP_REQUESTED, 1);
    Atomics.notify(this.header, HEAD);
  }

  /**
   * Producer, after requestStop(): blocks until the consumer acknowledges, or until `acknowledgeMs` have
   * passed and the consumer is not publishing (then the ring is taken over). A publish in flight at the
   * deadline is waited for `publishMs` more before the ring is taken over anyway.
   */
  awaitStop(acknowledgeMs: number, publishMs: number): StopOutcome {
    const start = performance.now();
    for (;;) {
      const state = Atomics.load(this.header, STATE);
      if (state === ACKNOWLEDGED) return 'acknowledged';
      if (state === TAKEN) return 'taken';
      const waited = performance.now() - start;
      if (waited >= acknowledgeMs) {
        if (Atomics.compareExchange(this.header, STATE, IDLE, TAKEN) === IDLE) return 'taken';
        if (state === PUBLISHING && waited >= acknowledgeMs + publishMs) {
          if (Atomics.compareExchange(this.header, STATE, PUBLISHING, TAKEN) === PUBLISHING) return 'taken-during-publish';
          continue;
        }
      }
      const until = state === PUBLISHING && waited >= acknowledgeMs ? acknowledgeMs + publishMs : acknowledgeMs;
      Atomics.wait(this.header, STATE, state, Math.max(1, until - waited));
    }
  }

  /**
   * Producer, once the consumer has stopped: the last durable point the consumer released, and every
   * record not released before it.
   */
  handOff(): { point: ReleasePoint; held: HeldChunk[] } {
    let tail = Atomics.load(this.header, TAIL) >>> 0;
    const releases = this.header[RELEASES]!;
    const point: ReleasePoint = { releases, checkpoint: releases === 0 ? undefined : Buffer.from(this.checkpoint.subarray(0, this.header[CHECKPOINT_LENGTH]!)) };
    const held: HeldChunk[] = [];
    const head = Atomics.load(this.header, HEAD) >>> 0;
    while (tail !== head) {
      const pos = tail & this.mask;
      const length = this.view.getInt32(pos, true);
      if (length === WRAP) {
        tail = (tail + this.data.length - pos) >>> 0;
        continue;
      }
      const record = this.recordAt(pos);
      held.push({ ...record, lostBefore: 0, bytes: Buffer.from(record.bytes) });
      tail = (tail + align8(RECORD_HEADER + length)) >>> 0;
    }
    return { point, held };
  }

  /** Consumer: whether the producer has asked it to stop. */
  stopRequested(): boolean {
    return Atomics.load(this.header, STOP_REQUESTED) === 1;
  }

  /** Consumer: enters a publish; false once it has stopped (acknowledged, or the ring was taken over). */
  beginPublish(): boolean {
    return Atomics.compareExchange(this.header, STATE, IDLE, PUBLISHING) === IDLE;
  }

  /** Consumer: leaves a publish (a producer waiting for it to end is woken). */
  endPublish(): void {
    Atomics.compareExchange(this.header, STATE, PUBLISHING, IDLE);
    Atomics.notify(this.header, STATE);
  }

  /**
   * Consumer, outside a publish, once it has handed over what it holds: acknowledges the stop. False if the
   * producer took the ring over first (what was handed over is then ignored).
   */
  acknowledgeStop(): boolean {
    const acknowledged = Atomics.compareExchange(this.header, STATE, IDLE, ACKNOWLEDGED) === IDLE;
    Atomics.notify(this.header, STATE);
    return acknowledged;
  }

  /** Consumer: whether it has stopped (acknowledged, or the ring was taken over): it must record nothing more. */
  stopped(): boolean {
    const state = Atomics.load(this.header, STATE);
    return state === ACKNOWLEDGED || state === TAKEN;
  }

  /** Consumer: whether it is inside a publish. */
  publishing(): boolean {
    return Atomics.load(this.header, STATE) === PUBLISHING;
  }

  private recordAt(pos: number): Omit<RingChunk, 'end'> {
    const length = this.view.getInt32(pos, true);
    return {
      dir: this.view.getUint8(pos + 4) as 0 | 1,
      timestampMs: this.view.getFloat64(pos + 8, true),
      bytes: this.data.subarray(pos + RECORD_HEADER, pos + RECORD_HEADER + length),
    };
  }

  /** Consumer: resolves after `timeoutMs`, or earlier if the producer fills half the ring. */
  async waitForData(timeoutMs: number): Promise<void> {
    Atomics.store(this.header, CONSUMER_WAITING, 1);
    const head = Atomics.load(this.header, HEAD);
    if ((head >>> 0) === this.cursor) {
      const waited = waitAsync(this.header, HEAD, head, timeoutMs);
      if (waited.async) await waited.value;
    }
    Atomics.store(this.header, CONSUMER_WAITING, 0);
  }

  private writeRecord(dir: 0 | 1, timestampMs: number, bytes: Uint8Array): boolean {
    const need = align8(RECORD_HEADER + bytes.length);
    let head = Atomics.load(this.header, HEAD) >>> 0;
    const tail = Atomics.load(this.header, TAIL) >>> 0;
    const pos = head & this.mask;
    const toEnd = this.data.length - pos;
    const skip = need > toEnd ? toEnd : 0;
    if (((head - tail) >>> 0) + skip + need > this.data.length) return false;
    let at = pos;
    if (skip) {
      this.view.setInt32(pos, WRAP, true);
      head = (head + skip) >>> 0;
      at = 0;
    }
    this.view.setInt32(at, bytes.length, true);
    this.view.setUint8(at + 4, dir);
    this.view.setFloat64(at + 8, timestampMs, true);
    this.data.set(bytes, at + RECORD_HEADER);
    Atomics.store(this.header, HEAD, (head + need) | 0);
    // A sleeping consumer polls on its own schedule; it is woken early only when the ring is half full,
    // so the forwarding thread neither pays a system call per chunk nor wakes a competitor for the CPU
    // in the middle of a round trip.
    if (((head + need - tail) >>> 0) > this.data.length >> 1 && Atomics.load(this.header, CONSUMER_WAITING) === 1) {
      Atomics.notify(this.header, HEAD);
    }
    return true;
  }
}
