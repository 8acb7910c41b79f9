/**
 * A single-producer, single-consumer ring of byte chunks in a SharedArrayBuffer: the forwarding
 * thread copies each chunk in (one memcpy, no allocation, never a wait) and the observer worker
 * reads it out. Its fixed size is the whole memory the tap spends on chunks the observer has not
 * read yet; when it is full, the producer records a gap instead of waiting.
 */

/** Int32 slots of the header: monotonic byte counters (mod 2^32) and the consumer's sleep flag. */
const HEAD = 0;
const TAIL = 1;
const CONSUMER_WAITING = 2;
const HEADER_BYTES = 64;
/** Per record: int32 length (-1 marks a wrap), uint8 direction, float64 time, float64 bytes lost before it. */
const RECORD_HEADER = 24;
const WRAP = -1;

const align8 = (n: number): number => (n + 7) & ~7;

/** Atomics.waitAsync: in Node 20's V8, but typed only in the ES2024 lib, which would also admit APIs Node 20 lacks. */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

export interface RingChunk {
  dir: 0 | 1;
  timestampMs: number;
  /** Bytes of this direction that were forwarded but not written to the ring since the previous chunk. */
  lostBefore: number;
  /** A view into shared memory: valid only until the visitor returns. */
  bytes: Buffer;
}

export class ChunkRing {
  private readonly header: Int32Array;
  private readonly data: Buffer;
  private readonly view: DataView;
  private readonly mask: number;
  private readonly lost = [0, 0];

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.data = Buffer.from(buffer, HEADER_BYTES);
    this.view = new DataView(buffer, HEADER_BYTES);
    this.mask = this.data.length - 1;
  }

  /** A new ring of `capacity` bytes (rounded up to a power of two, at least 64 KiB). */
  static create(capacity: number): ChunkRing {
    const size = 2 ** Math.ceil(Math.log2(Math.max(capacity, 65536)));
    return new ChunkRing(new SharedArrayBuffer(HEADER_BYTES + size));
  }

  /** The consumer's handle on a ring created by the producer. */
  static attach(buffer: SharedArrayBuffer): ChunkRing {
    return new ChunkRing(buffer);
  }

  /** Producer: copies `bytes` in, in pieces if it is large; false (and counted as lost) when there is no room. */
  write(dir: 0 | 1, timestampMs: number, bytes: Uint8Array): boolean {
    const maxPiece = (this.data.length >> 2) - RECORD_HEADER;
    for (let offset = 0; offset < bytes.length; offset += maxPiece) {
      const piece = bytes.subarray(offset, offset + maxPiece);
      if (!this.writeRecord(dir, timestampMs, piece)) {
        this.lost[dir]! += bytes.length - offset;
        return false;
      }
    }
    return true;
  }

  /** Producer: bytes of one direction lost since its last record that got in (a loss the consumer has not seen). */
  pendingLoss(dir: 0 | 1): number {
    return this.lost[dir]!;
  }

  /** Consumer: visits every complete record now in the ring, at most `maxRecords`; returns how many it visited. */
  read(visit: (chunk: RingChunk) => void, maxRecords = Infinity): number {
    let tail = Atomics.load(this.header, TAIL) >>> 0;
    let visited = 0;
    while (visited < maxRecords) {
      const head = Atomics.load(this.header, HEAD) >>> 0;
      if (tail === head) break;
      const pos = tail & this.mask;
      const length = this.view.getInt32(pos, true);
      if (length === WRAP) {
        tail = (tail + this.data.length - pos) >>> 0;
      } else {
        visit({
          dir: this.view.getUint8(pos + 4) as 0 | 1,
          timestampMs: this.view.getFloat64(pos + 8, true),
          lostBefore: this.view.getFloat64(pos + 16, true),
          bytes: this.data.subarray(pos + RECORD_HEADER, pos + RECORD_HEADER + length),
        });
        tail = (tail + align8(RECORD_HEADER + length)) >>> 0;
        visited++;
      }
      // Each record's space goes back to the producer as soon as it has been visited.
      Atomics.store(this.header, TAIL, tail | 0);
    }
    return visited;
  }

  /** Consumer: resolves after `timeoutMs`, or earlier if the producer fills half the ring. */
  async waitForData(timeoutMs: number): Promise<void> {
    Atomics.store(this.header, CONSUMER_WAITING, 1);
    const head = Atomics.load(this.header, HEAD);
    if ((head >>> 0) === (Atomics.load(this.header, TAIL) >>> 0)) {
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
    this.view.setFloat64(at + 16, this.lost[dir]!, true);
    this.data.set(bytes, at + RECORD_HEADER);
    this.lost[dir] = 0;
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
