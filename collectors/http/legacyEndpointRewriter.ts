/**
 * Rewrites the `endpoint` event that opens a legacy HTTP+SSE stream (2024-11-05), so the client posts
 * its messages back through the proxy instead of straight to the upstream. Only the stream's first event
 * is held, until its closing blank line (a client cannot act on half an event either); after it every
 * byte passes through untouched, chunk by chunk.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { SseParser, type SseEvent } from './sseParser.js';

/** Bytes held while waiting for the first event; past this the stream passes through unchanged. */
const MAX_HELD_BYTES = 64 * 1024;

/** Maps the upstream's endpoint (as it wrote it) to the one the client must use; undefined leaves it unchanged. */
export type EndpointMapper = (endpoint: string) => string | undefined;

/** A pass-through stream that rewrites a leading `endpoint` event. */
export class LegacyEndpointRewriter extends Transform {
  readonly #map: EndpointMapper;
  readonly #onEndpoint: (upstream: string, rewritten: string | undefined) => void;
  readonly #parser: SseParser;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #passThrough = false;
  #decision: { event: SseEvent; offset: number } | undefined;

  /** `onEndpoint` learns each endpoint seen and what it became (undefined: it could not be mapped). */
  constructor(map: EndpointMapper, onEndpoint: (upstream: string, rewritten: string | undefined) => void) {
    super();
    this.#map = map;
    this.#onEndpoint = onEndpoint;
    this.#parser = new SseParser((event, offset) => {
      this.#decision ??= { event, offset };
    }, MAX_HELD_BYTES);
  }

  /** Holds bytes until the first event is complete, then passes everything through. */
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#passThrough) {
      done(null, chunk);
      return;
    }
    this.#parser.push(chunk);
    const decision = this.#decision;
    if (decision === undefined) {
      this.#held.push(chunk);
      this.#heldBytes += chunk.length;
      if (this.#heldBytes > MAX_HELD_BYTES) this.#release(Buffer.concat(this.#held));
      done();
      return;
    }
    const before = Buffer.concat([...this.#held, chunk.subarray(0, decision.offset)]);
    const head = decision.event.type === 'endpoint' ? this.#rewrite(decision.event, before) : before;
    this.#release(head);
    if (decision.offset < chunk.length) this.push(chunk.subarray(decision.offset));
    done();
  }

  /** A stream that ended before its first event passes on what was held. */
  override _flush(done: TransformCallback): void {
    if (!this.#passThrough && this.#heldBytes > 0) this.#release(Buffer.concat(this.#held));
    done();
  }

  #rewrite(event: SseEvent, original: Buffer): Buffer {
    const rewritten = this.#map(event.data);
    this.#onEndpoint(event.data, rewritten);
    if (rewritten === undefined || rewritten === event.data) return original;
    const id = event.id === undefined ? '' : `id: ${event.id}\n`;
    const retry = event.retry === undefined ? '' : `retry: ${event.retry}\n`;
    return Buffer.from(`event: endpoint\n${id}${retry}data: ${rewritten}\n\n`, 'utf8');
  }

  #release(bytes: Buffer): void {
    this.#passThrough = true;
    this.#held = [];
    this.#heldBytes = 0;
    if (bytes.length > 0) this.push(bytes);
  }
}
