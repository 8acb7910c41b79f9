/**
 * An incremental Server-Sent Events parser (WHATWG HTML "event stream interpretation") over raw bytes.
 * Hand-written rather than taken from eventsource-parser because the tap needs what a browser-style
 * parser hides: each event's byte size, the offset in the chunk where it ended (to rewrite one event
 * in place), a bound on how much of one event is held, and whether a stream stopped inside an event.
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field, or "message". */
  type: string;
  /** The data lines joined by "\n" (empty for a priming event); cut when `oversized`. */
  data: string;
  /** The `id:` field of this event, if it had one. */
  id: string | undefined;
  /** The `retry:` field of this event, if it had a valid one. */
  retry: number | undefined;
  /** Bytes of the event on the wire, fields and line ends included. */
  bytes: number;
  /** The event was larger than the parser's bound: `data` holds only its first part. */
  oversized: boolean;
}

/** What remained when the stream ended. */
export interface SseTail {
  /** The stream stopped inside an event (fields or a line after the last blank line). */
  truncated: boolean;
  /** Bytes of that unfinished event. */
  bytes: number;
  /** Its first bytes, for an excerpt. */
  excerpt: string;
}

const LF = 10;
const CR = 13;

/** Parses one SSE byte stream; calls `onEvent` with each event and the chunk offset just past its blank line. */
export class SseParser {
  readonly #onEvent: (event: SseEvent, endOffset: number) => void;
  readonly #maxEventBytes: number;
  #line: Buffer[] = [];
  #lineBytes = 0;
  #afterCr = false;
  #firstLine = true;
  #type = '';
  #data: string[] = [];
  #dataBytes = 0;
  #hasData = false;
  #id: string | undefined;
  #retry: number | undefined;
  #eventBytes = 0;
  #oversized = false;
  #excerpt = '';

  /** `maxEventBytes` bounds the data held for one event; the rest is counted, not kept. */
  constructor(onEvent: (event: SseEvent, endOffset: number) => void, maxEventBytes = 16 * 1024 * 1024) {
    this.#onEvent = onEvent;
    this.#maxEventBytes = maxEventBytes;
  }

  /** Feeds the next chunk of the stream. */
  push(chunk: Buffer): void {
    let start = 0;
    if (this.#afterCr && chunk.length > start && chunk[start] === LF) {
      this.#eventBytes += 1;
      start += 1;
    }
    this.#afterCr = false;
    for (let i = start; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== LF && byte !== CR) continue;
      this.#append(chunk.subarray(start, i));
      let end = i + 1;
      if (byte === CR) {
        if (i + 1 < chunk.length) {
          if (chunk[i + 1] === LF) end = i + 2;
        } else this.#afterCr = true;
      }
      this.#eventBytes += end - i;
      this.#takeLine(end);
      start = end;
      i = end - 1;
    }
    this.#append(chunk.subarray(start));
  }

  /** Ends the stream: an event without its closing blank line is never dispatched (as in a browser) and is reported. */
  end(): SseTail {
    const bytes = this.#eventBytes + this.#lineBytes;
    const truncated = bytes > 0 && (this.#lineBytes > 0 || this.#hasData || this.#type !== '' || this.#id !== undefined);
    const pending = this.#lineBytes > 0 ? Buffer.concat(this.#line).toString('utf8') : '';
    const excerpt = this.#data.length > 0 ? `${this.#data.join('\n')}${pending === '' ? '' : `\n${pending}`}` : pending;
    this.#line = [];
    this.#lineBytes = 0;
    this.#reset();
    return { truncated, bytes, excerpt: this.#oversized ? this.#excerpt : excerpt };
  }

  #append(part: Buffer): void {
    if (part.length === 0) return;
    this.#eventBytes += part.length;
    // Only as much of a line is kept as the event may still hold; the rest is counted.
    const room = this.#maxEventBytes + 16 - this.#lineBytes;
    if (room > 0) this.#line.push(part.length > room ? part.subarray(0, room) : Buffer.from(part));
    this.#lineBytes += part.length;
  }

  #takeLine(endOffset: number): void {
    let line = this.#lineBytes === 0 ? '' : Buffer.concat(this.#line).toString('utf8');
    // A byte order mark may open the stream (and only the stream).
    if (this.#firstLine) {
      this.#firstLine = false;
      if (line.startsWith('\uFEFF')) line = line.slice(1);
    }
    const cut = this.#lineBytes > this.#maxEventBytes + 16;
    this.#line = [];
    this.#lineBytes = 0;
    if (line === '' && !cut) {
      this.#dispatch(endOffset);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#type = value;
        return;
      case 'data':
        this.#hasData = true;
        if (cut || this.#dataBytes + value.length > this.#maxEventBytes) {
          this.#overflow(value);
          return;
        }
        this.#data.push(value);
        this.#dataBytes += value.length + 1;
        return;
      case 'id':
        if (!value.includes('\u0000')) this.#id = value;
        return;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        return;
    }
  }

  #overflow(value: string): void {
    if (!this.#oversized) this.#excerpt = `${this.#data.join('\n')}\n${value}`.slice(0, 64 * 1024);
    this.#oversized = true;
  }

  #dispatch(endOffset: number): void {
    if (this.#hasData) {
      this.#onEvent(
        {
          type: this.#type === '' ? 'message' : this.#type,
          data: this.#oversized ? this.#excerpt : this.#data.join('\n'),
          id: this.#id,
          retry: this.#retry,
          bytes: this.#eventBytes,
          oversized: this.#oversized,
        },
        endOffset,
      );
    }
    this.#reset();
  }

  #reset(): void {
    this.#type = '';
    this.#data = [];
    this.#dataBytes = 0;
    this.#hasData = false;
    this.#id = undefined;
    this.#retry = undefined;
    this.#eventBytes = 0;
    this.#oversized = false;
    this.#excerpt = '';
  }
}
