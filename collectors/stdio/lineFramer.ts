/**
 * Splits a byte stream into newline-delimited frames (the stdio transport's framing) without ever
 * holding more than `maxFrameBytes` of one line: a longer line is reported by its excerpt and size.
 */

export interface FrameSink {
  /**
   * A complete line, without its newline (a trailing `\r` is left for the normalizer to strip).
   * The bytes may be a view into the caller's chunk: valid only during the call.
   */
  frame(bytes: Buffer, timestampMs: number): void;
  /** A line longer than the limit: its first bytes and its full size. */
  oversized(excerpt: Buffer, size: number, timestampMs: number): void;
}

const NEWLINE = 0x0a;

export class LineFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** While skipping an oversized line: its excerpt and the bytes seen so far. */
  private skipping: { excerpt: Buffer; size: number } | undefined;
  /** After a gap the current line is incomplete, so everything up to the next newline is discarded. */
  private resyncing = false;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxFrameBytes: number,
    private readonly excerptBytes = 1024,
  ) {}

  /** Feeds the next chunk of the stream; the chunk may be reused once this returns. */
  push(chunk: Buffer, timestampMs: number): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.take(chunk.subarray(start));
        return;
      }
      const line = chunk.subarray(start, nl);
      if (this.pendingBytes === 0 && !this.skipping && !this.resyncing && line.length <= this.maxFrameBytes) {
        // The common case, a whole line inside one chunk, reaches the sink without a copy.
        if (line.length > 0) this.sink.frame(line, timestampMs);
      } else {
        this.take(line);
        this.completeLine(timestampMs);
      }
      start = nl + 1;
    }
  }

  /** Notes that bytes of the stream were not observed: the line in progress cannot be framed. */
  gap(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = undefined;
    this.resyncing = true;
  }

  /** Bytes of the line in progress seen so far (held, or counted while skipping an oversized one): none of it is recorded yet. */
  lineBytes(): number {
    return this.skipping ? this.skipping.size : this.pendingBytes;
  }

  /** Ends the stream: an unterminated last line is still a frame. */
  end(timestampMs: number): void {
    if (this.pendingBytes > 0 || this.skipping) this.completeLine(timestampMs);
  }

  private take(part: Buffer): void {
    if (part.length === 0 || this.resyncing) return;
    if (this.skipping) {
      this.skipping.size += part.length;
      return;
    }
    if (this.pendingBytes + part.length > this.maxFrameBytes) {
      const head = Buffer.concat([...this.pending, part.subarray(0, Math.max(0, this.excerptBytes - this.pendingBytes))]);
      this.skipping = { excerpt: head.subarray(0, this.excerptBytes), size: this.pendingBytes + part.length };
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    // Only an incomplete line outlives the chunk, so only it is copied.
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  private completeLine(timestampMs: number): void {
    if (this.resyncing) {
      this.resyncing = false;
      return;
    }
    if (this.skipping) {
      this.sink.oversized(this.skipping.excerpt, this.skipping.size, timestampMs);
      this.skipping = undefined;
      return;
    }
    if (this.pendingBytes === 0) return;
    const line = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.sink.frame(line, timestampMs);
  }
}
