/**
 * The forwarding thread's side of the observer link: observations are queued and posted to the worker
 * a few milliseconds later, many in one message whose body chunks are copied into a single buffer (one
 * copy, one transfer), only after they were forwarded. Posting wakes the other thread, which costs far
 * more than queueing, so the link posts rarely; observation may lag a little, traffic never waits.
 * Past a budget of unacknowledged bytes observation is skipped, never traffic.
 */
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { BodyDirection, FromObserver, HttpObserverSummary, ObservationBatch, ObserverProgress, ToObserver } from './httpObserverProtocol.js';

/** How long observations may wait to share a message. */
const FLUSH_DELAY_MS = 5;
/** Queued body bytes that are posted at once rather than after the delay. */
const FLUSH_BYTES = 1024 * 1024;

const STALLED: unique symbol = Symbol('stalled');

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Batches observations to the observer worker. */
export class ObservationChannel {
  readonly #worker: Worker;
  readonly #maxInflightBytes: number;
  #alive = true;
  #queue: ToObserver[] = [];
  #bodies: Buffer[] = [];
  #bodyBytes = 0;
  #scheduled = false;
  #inflight = 0;
  #unobserved = 0;
  /** Messages heard from the worker: its progress, for a wait that lasts as long as it keeps working. */
  #heard = 0;
  #progress: ObserverProgress = { events: 0, stored: 0, sequence: 0 };
  readonly summary: Promise<HttpObserverSummary | undefined>;

  /** `onFailure` hears once if the worker dies; traffic continues unobserved. */
  constructor(worker: Worker, maxInflightBytes: number, onFailure: (error: Error) => void) {
    this.#worker = worker;
    this.#maxInflightBytes = maxInflightBytes;
    this.summary = new Promise((resolve) => {
      worker.on('message', (message: FromObserver) => {
        this.#heard++;
        if (message.type === 'ack') {
          this.#inflight -= message.bytes;
          this.#progress = message.progress;
        } else resolve(message.summary);
      });
      worker.on('error', (error) => {
        this.#alive = false;
        onFailure(error);
        resolve(undefined);
      });
      worker.on('exit', () => {
        this.#alive = false;
        resolve(undefined);
      });
    });
  }

  /**
   * The worker's summary once it has recorded everything, or undefined if it reports no progress for `stallMs`. A
   * busy machine only slows the worker down, and what it has not processed would be lost at exit, so the wait has
   * no overall limit while reports keep coming; a worker whose bus refuses its events reports nothing until the bus
   * takes them, so a bus outage at close is waited for up to `stallMs` too.
   */
  async finished(stallMs: number): Promise<HttpObserverSummary | undefined> {
    for (;;) {
      const heard = this.#heard;
      const summary = await Promise.race([this.summary, delay(stallMs).then((): typeof STALLED => STALLED)]);
      if (summary !== STALLED) return summary;
      if (this.#heard === heard) return undefined;
    }
  }

  /** Bytes that were forwarded without being observed. */
  get unobservedBytes(): number {
    return this.#unobserved;
  }

  /** Body bytes posted to the worker that it has not acknowledged (processed) yet. */
  get unacknowledgedBytes(): number {
    return this.#inflight;
  }

  /** The worker's progress as it last reported it. */
  get progress(): ObserverProgress {
    return this.#progress;
  }

  /** Queues one observation. */
  send(message: ToObserver): void {
    if (!this.#alive) return;
    this.#queue.push(message);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => this.flush(), FLUSH_DELAY_MS);
    }
  }

  /** Queues a forwarded body chunk (copied at the flush), or a gap when the observer is too far behind. */
  chunk(x: number, dir: BodyDirection, chunk: Buffer): void {
    if (!this.#alive || chunk.length === 0) return;
    if (this.#inflight + chunk.length > this.#maxInflightBytes) {
      this.#unobserved += chunk.length;
      this.send({ type: 'gap', x, dir, bytes: chunk.length });
      return;
    }
    this.#inflight += chunk.length;
    this.send({ type: 'body', x, dir, t: performance.timeOrigin + performance.now(), offset: this.#bodyBytes, length: chunk.length });
    this.#bodies.push(chunk);
    this.#bodyBytes += chunk.length;
    if (this.#bodyBytes >= FLUSH_BYTES) this.flush();
  }

  /** Posts what is queued now (also used before shutdown). */
  flush(): void {
    this.#scheduled = false;
    if (!this.#alive || this.#queue.length === 0) return;
    // An exact-size buffer of its own is transferred, so the worker never receives a pooled buffer's neighbours.
    const bodies = new Uint8Array(this.#bodyBytes);
    let at = 0;
    for (const chunk of this.#bodies) {
      bodies.set(chunk, at);
      at += chunk.length;
    }
    const batch: ObservationBatch = { messages: this.#queue, bodies };
    this.#queue = [];
    this.#bodies = [];
    this.#bodyBytes = 0;
    this.#worker.postMessage(batch, [bodies.buffer]);
  }
}
