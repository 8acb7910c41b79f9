/**
 * Batches a collector's events onto the bus. Telemetry never blocks traffic, so a failing bus is
 * answered with a bounded queue and retries with backoff; past the bound the oldest events are
 * dropped, and every drop is counted so the collector can report it.
 */
import type { OutgoingRecord } from '../pipeline/bus.js';
import { TOPICS } from '../pipeline/bus.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';

export type PublishFunction = (topic: string, records: readonly OutgoingRecord[]) => void | Promise<void>;

export interface PublisherOptions {
  /** How long an event may wait for companions before a flush. */
  flushIntervalMs?: number;
  maxBatch?: number;
  /** Events held while the bus is failing; older ones are dropped past this. */
  maxQueued?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Called on the first failure of a run of failures. */
  onFailure?: (error: Error) => void;
  /** Called when the bus accepts events again after failures, with the drops so far. */
  onRecover?: (dropped: number) => void;
  /** Called when every event enqueued so far has been published (or dropped and counted). */
  onIdle?: () => void;
  /** Called after each batch the bus took (stats() counts it): progress, for a caller that reports it. */
  onPublished?: () => void;
}

export interface PublisherStats {
  published: number;
  dropped: number;
  queued: number;
  failing: boolean;
  lastError?: string;
}

/** The bus key of an event: its host session keeps one host's servers ordered together. */
export function eventKey(event: McpEvent): string {
  return event.mcp.host_session?.id ?? event.mcp.session.id;
}

/** The events-topic record of an event: keyed by eventKey, the event's JSON as its value. */
export function eventRecord(event: McpEvent): OutgoingRecord {
  return { key: eventKey(event), value: JSON.stringify(event) };
}

export class EventPublisher {
  /**
   * Events serialized as they are enqueued: a queue of strings holds the same memory as one of event objects, but
   * each object graph dies young, and a burst then spends far less of the observer's time in garbage collection.
   */
  private queue: OutgoingRecord[] = [];
  /** Events at the front of the queue that a publish call currently holds. */
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** A flush of a full batch is due once the caller's synchronous step has ended. */
  private flushDue = false;
  private retryDelay: number;
  private published = 0;
  private dropped = 0;
  private failing = false;
  private lastError: string | undefined;
  private abandoned = false;
  private wake: (() => void) | undefined;
  private readonly opts: Required<Omit<PublisherOptions, 'onFailure' | 'onRecover' | 'onIdle' | 'onPublished'>> & Pick<PublisherOptions, 'onFailure' | 'onRecover' | 'onIdle' | 'onPublished'>;

  constructor(private readonly publish: PublishFunction, options: PublisherOptions = {}) {
    this.opts = { flushIntervalMs: 25, maxBatch: 1000, maxQueued: 50_000, retryMinMs: 100, retryMaxMs: 5000, ...options };
    this.retryDelay = this.opts.retryMinMs;
  }

  /** Queues one event; it is published within flushIntervalMs while the bus is healthy. */
  enqueue(event: McpEvent): void {
    this.queue.push(eventRecord(event));
    if (this.queue.length > this.opts.maxQueued) {
      // The oldest events not held by an in-flight publish go first.
      const excess = this.queue.length - this.opts.maxQueued;
      this.queue.splice(this.inFlight, excess);
      this.dropped += excess;
    }
    if (this.queue.length >= this.opts.maxBatch) this.flushWhenCallerReturns();
    else this.schedule(this.opts.flushIntervalMs);
  }

  /** Publishes what is queued now; failures are kept for retry, never thrown. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Delivers what it can within `timeoutMs`, and stops retrying: what is still queued then stays for unpublished(). */
  async deliver(timeoutMs: number): Promise<PublisherStats> {
    const deadline = Date.now() + timeoutMs;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 && Date.now() < deadline && !this.abandoned) {
      await this.flush();
      if (this.failing && this.queue.length > 0 && !this.abandoned) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, Math.min(this.retryDelay, Math.max(0, deadline - Date.now())));
        });
      }
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.stats();
  }

  /**
   * Ends a delivery's retries now (its caller stopped waiting for the bus): what is still queued stays for close() to
   * count. Waking the delivery, rather than terminating the thread, matters: a thread terminated while the bus's
   * native code waits on a lock dies with its process.
   */
  abandon(): void {
    this.abandoned = true;
    this.wake?.();
  }

  /** Delivers what it can within `timeoutMs`; whatever is still queued then counts as dropped. */
  async close(timeoutMs: number): Promise<PublisherStats> {
    await this.deliver(timeoutMs);
    this.dropped += this.queue.length;
    this.queue = [];
    return this.stats();
  }

  /** The events enqueued and not yet published (nor dropped), oldest first, as the JSON text they are published as. */
  unpublished(): string[] {
    return this.queue.map((record) => record.value);
  }

  /** Counters for status reports. */
  stats(): PublisherStats {
    return { published: this.published, dropped: this.dropped, queued: this.queue.length, failing: this.failing, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /**
   * A full batch is published right after the caller's synchronous step, never inside enqueue(): the publish
   * function must not run in the middle of what the caller is doing. (A stdio observer that handed its state over
   * from inside a publish started by the 1,000th event of a chunk lost the chunk's later frames: its position
   * already counted the whole chunk.)
   */
  private flushWhenCallerReturns(): void {
    if (this.flushDue) return;
    this.flushDue = true;
    queueMicrotask(() => {
      this.flushDue = false;
      void this.flush();
    });
  }

  private schedule(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    this.timer.unref?.();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.opts.maxBatch);
      this.inFlight = batch.length;
      try {
        await this.publish(TOPICS.events, batch);
      } catch (error) {
        this.inFlight = 0;
        const err = error instanceof Error ? error : new Error(String(error));
        this.lastError = err.message;
        if (!this.failing) this.opts.onFailure?.(err);
        this.failing = true;
        this.schedule(this.retryDelay);
        this.retryDelay = Math.min(this.retryDelay * 2, this.opts.retryMaxMs);
        return;
      }
      this.inFlight = 0;
      this.queue.splice(0, batch.length);
      this.published += batch.length;
      this.opts.onPublished?.();
      if (this.failing) {
        this.failing = false;
        this.retryDelay = this.opts.retryMinMs;
        this.opts.onRecover?.(this.dropped);
      }
    }
    this.opts.onIdle?.();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
