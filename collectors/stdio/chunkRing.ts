/**
 * A single-producer, single-consumer ring of byte chunks in a SharedArrayBuffer: the forwarding
 * thread copies each chunk in (one memcpy, no allocation, never a wait) and the observer worker
 * reads it out. Its fixed size is the whole memory the tap spends on chunks the observer has not
 * released yet; when it is full, the producer accepts less and puts the rest elsewhere (a spill file).
 *
 * A retaining consumer reads ahead of what it releases: a chunk stays in the ring until what was made
 * of it is durable, so that when the tap must exit before the observer has caught up, the producer can
 * hand every chunk not yet recorded to disk (see handoffFile.ts) instead of losing it.
 */

/** Int32 slots of the header: monotonic byte counters (mod 2^32), the consumer's sleep flag, the hand-off flag. */
const HEAD = 0;
const TAIL = 1;
const CONSUMER_WAITING = 2;
const HANDED_OFF = 3;
/** Int32 slots the consumer writes (plainly) before each release: its counters at that durable point. */
const DURABLE_FRAMES = 4;
const DURABLE_EVENTS = 5;
const DURABLE_DROPPED = 6;
const RELEASES = 7;
/** Float64 slots (8-byte units): per direction, the stream offset below which everything is durable. */
const DURABLE_OFFSET = 4;
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

/** What a retaining consumer had made durable at its last release. */
export interface DurablePoint {
  /** Per direction, the offset (in bytes that entered the ring) below which every frame is recorded. */
  offsets: [number, number];
  frames: number;
  events: number;
  dropped: number;
  /** Releases so far: 0 means not even the session's first event is known to be recorded. */
  releases: number;
}

/** A chunk kept for later recording: still in the ring at hand-off, or spilled; `lostBefore` bytes of its direction were not kept before it. */
export interface HeldChunk {
  dir: 0 | 1;
  timestampMs: number;
  lostBefore: number;
  bytes: Buffer;
}

export class ChunkRing {
  private readonly header: Int32Array;
  private readonly durable: Float64Array;
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
    this.durable = new Float64Array(buffer, 0, HEADER_BYTES / 8);
    this.cursor = Atomics.load(this.header, TAIL) >>> 0;
    this.data = Buffer.from(buffer, HEADER_BYTES);
    this.view = new DataView(buffer, HEADER_BYTES);
    this.mask = this.data.length - 1;
  }

  /** A new ring of `capacity` bytes (rounded up to a power of two, at least 64 KiB). */
  static create(capacity: number): ChunkRing {
    const size = 2 ** Math.ceil(Math.log2(Math.max(capacity, 65536)));
    return new ChunkRing(new SharedArrayBuffer(HEADER_BYTES + size));
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
   * recorded, together with the counters of that durable point. The counters are written first, so a
   * producer that sees the new position also sees them.
   */
  release(position: number, point: Omit<DurablePoint, 'releases'>): void {
    this.durable[DURABLE_OFFSET] = point.offsets[0];
    this.durable[DURABLE_OFFSET + 1] = point.offsets[1];
    this.header[DURABLE_FRAMES] = point.frames;
    this.header[DURABLE_EVENTS] = point.events;
    this.header[DURABLE_DROPPED] = point.dropped;
    this.header[RELEASES] = this.header[RELEASES]! + 1;
    Atomics.store(this.header, TAIL, position | 0);
  }

  /** Producer: bytes of a direction that entered the ring so far. */
  writtenBytes(dir: 0 | 1): number {
    return this.written[dir]!;
  }

  /**
   * Producer, once the consumer must stop: marks the ring handed off (a consumer that looks stops
   * recording), then returns the last durable point and every record not released before it.
   */
  handOff(): { point: DurablePoint; held: HeldChunk[] } {
    Atomics.store(this.header, HANDED_OFF, 1);
    let tail = Atomics.load(this.header, TAIL) >>> 0;
    const point: DurablePoint = {
      offsets: [this.durable[DURABLE_OFFSET]!, this.durable[DURABLE_OFFSET + 1]!],
      frames: this.header[DURABLE_FRAMES]!,
      events: this.header[DURABLE_EVENTS]!,
      dropped: this.header[DURABLE_DROPPED]!,
      releases: this.header[RELEASES]!,
    };
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

  /** Whether the producer has handed the ring off: the consumer must no longer record anything. */
  handedOff(): boolean {
    return Atomics.load(this.header, HANDED_OFF) === 1;
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
