/**
 * The primitive types of the Kafka protocol (big-endian integers, int16-length strings, int32-length bytes and arrays),
 * for the test broker's request decoding and response encoding. Only the non-flexible (pre-KIP-482) encodings: the
 * broker advertises API versions that predate tagged fields.
 */

/** Reads Kafka primitives from a request body. */
export class WireReader {
  private at = 0;

  /** Reads `buffer` from its start. */
  constructor(private readonly buffer: Buffer) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buffer.length - this.at;
  }

  /** A signed 8-bit integer. */
  int8(): number {
    return this.fixed(1, (at) => this.buffer.readInt8(at));
  }

  /** A big-endian signed 16-bit integer. */
  int16(): number {
    return this.fixed(2, (at) => this.buffer.readInt16BE(at));
  }

  /** A big-endian signed 32-bit integer. */
  int32(): number {
    return this.fixed(4, (at) => this.buffer.readInt32BE(at));
  }

  /** An int64 as a JS number: offsets, timestamps and producer ids in tests stay far below 2^53. */
  int64(): number {
    return this.fixed(8, (at) => Number(this.buffer.readBigInt64BE(at)));
  }

  /** A boolean (one byte, non-zero is true). */
  boolean(): boolean {
    return this.int8() !== 0;
  }

  /** A nullable string (length -1 is null). */
  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const value = this.buffer.toString('utf8', this.at, this.at + length);
    this.at += length;
    return value;
  }

  /** A string; null is read as ''. */
  string(): string {
    return this.nullableString() ?? '';
  }

  /** Nullable bytes (length -1 is null), as a view into the request. */
  bytes(): Buffer | null {
    const length = this.int32();
    if (length < 0) return null;
    const value = this.buffer.subarray(this.at, this.at + length);
    this.at += length;
    return value;
  }

  private fixed(size: number, read: (at: number) => number): number {
    const value = read(this.at);
    this.at += size;
    return value;
  }

  /** A nullable array (length -1 is null). */
  array<T>(item: (reader: WireReader) => T): T[] | null {
    const length = this.int32();
    if (length < 0) return null;
    const items: T[] = [];
    for (let i = 0; i < length; i++) items.push(item(this));
    return items;
  }
}

/** Writes Kafka primitives into a response body. */
export class WireWriter {
  private readonly chunks: Buffer[] = [];

  /** A signed 8-bit integer. */
  int8(value: number): this {
    return this.fixed(1, (chunk) => chunk.writeInt8(value));
  }

  /** A big-endian signed 16-bit integer. */
  int16(value: number): this {
    return this.fixed(2, (chunk) => chunk.writeInt16BE(value));
  }

  /** A big-endian signed 32-bit integer. */
  int32(value: number): this {
    return this.fixed(4, (chunk) => chunk.writeInt32BE(value));
  }

  /** A big-endian signed 64-bit integer. */
  int64(value: number): this {
    return this.fixed(8, (chunk) => chunk.writeBigInt64BE(BigInt(value)));
  }

  /** A boolean as one byte. */
  boolean(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  /** A nullable string. */
  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const encoded = Buffer.from(value, 'utf8');
    return this.int16(encoded.length).push(encoded);
  }

  /** Nullable bytes. */
  bytes(value: Buffer | null): this {
    if (value === null) return this.int32(-1);
    return this.int32(value.length).push(value);
  }

  /** An array whose items `write` encodes. */
  array<T>(items: readonly T[], write: (writer: WireWriter, item: T, index: number) => void): this {
    this.int32(items.length);
    items.forEach((item, index) => write(this, item, index));
    return this;
  }

  /** Raw bytes, already encoded. */
  raw(chunk: Buffer): this {
    return this.push(chunk);
  }

  /** Everything written, as one buffer. */
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private fixed(size: number, write: (chunk: Buffer) => void): this {
    const chunk = Buffer.alloc(size);
    write(chunk);
    return this.push(chunk);
  }

  private push(chunk: Buffer): this {
    this.chunks.push(chunk);
    return this;
  }
}
