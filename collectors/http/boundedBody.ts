/**
 * One observed HTTP body, held up to a bound: past it only the size is counted, and the message is
 * later recorded as an unparsed excerpt. Compressed bodies are inflated for observation only (the
 * client got the bytes as the upstream sent them), within the same bound.
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** A body as the observer saw it. */
export interface ObservedBody {
  /** The (decoded) body, cut at the bound when `complete` is false. */
  bytes: Buffer;
  /** Bytes on the wire. */
  size: number;
  /** Why the body cannot be parsed whole, if it cannot. */
  incomplete?: string;
}

const DECODERS: Record<string, (input: Buffer, options: { maxOutputLength: number }) => Buffer> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/** Collects one body's chunks within `maxBytes`. */
export class BoundedBody {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #kept = 0;
  #size = 0;
  #skipped = 0;

  /** Holds at most `maxBytes` of the body. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  /** The first bytes held, as text (to recognise a message before the whole body is parsed). */
  peek(bytes = 4096): string {
    return (this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks)).subarray(0, bytes).toString('utf8');
  }

  /** Adds a chunk (kept only while within the bound). */
  push(chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#kept >= this.#maxBytes) return;
    const part = this.#kept + chunk.length > this.#maxBytes ? chunk.subarray(0, this.#maxBytes - this.#kept) : chunk;
    // A copy: the chunk is a view into a batch that also holds other exchanges' bytes.
    this.#chunks.push(Buffer.from(part));
    this.#kept += part.length;
  }

  /** Counts bytes that were forwarded but never copied to the observer. */
  gap(bytes: number): void {
    this.#size += bytes;
    this.#skipped += bytes;
  }

  /** The body, decoded per Content-Encoding; `incomplete` says why it cannot be parsed whole. */
  take(contentEncoding: string | undefined): ObservedBody {
    let bytes: Buffer = Buffer.concat(this.#chunks);
    this.#chunks = [];
    const size = this.#size;
    if (this.#skipped > 0) return { bytes, size, incomplete: `${this.#skipped} bytes were forwarded without being observed (observer fell behind)` };
    if (size > this.#maxBytes) return { bytes, size, incomplete: `body of ${size} bytes exceeds the ${this.#maxBytes}-byte observation limit` };
    const encoding = contentEncoding?.trim().toLowerCase();
    if (encoding === undefined || encoding === '' || encoding === 'identity' || bytes.length === 0) return { bytes, size };
    const decode = DECODERS[encoding];
    if (!decode) return { bytes, size, incomplete: `content-encoding '${encoding}' is not decoded by the tap` };
    try {
      bytes = decode(bytes, { maxOutputLength: this.#maxBytes });
      return { bytes, size };
    } catch (error) {
      return { bytes, size, incomplete: `cannot decode ${encoding} body: ${(error as Error).message}` };
    }
  }
}
