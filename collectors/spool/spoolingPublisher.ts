/**
 * A collector's path to a remote bus (Kafka) that never blocks traffic and never loses events silently: records go
 * straight to the bus while it answers; when a publish fails they go to the disk spool instead, and stay spooled
 * (later records after them, to keep each host session in order) until a drain has delivered the spool, oldest
 * first. Drains run with backoff while the bus is down, and on start when another collector left records behind.
 */
import { randomUUID } from 'node:crypto';
import type { OutgoingRecord } from '../../pipeline/bus.js';
import type { DiskSpool, SpooledRecord } from './diskSpool.js';

export interface SpoolingPublisherOptions {
  /** Records per drain step (default 1000). */
  drainBatch?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /** The first failure of a run: events are being spooled. */
  onSpooling?: (error: Error) => void;
  /** The spool was delivered and publishing goes straight to the bus again. */
  onDrained?: (delivered: number) => void;
  /** The spool overflowed: `dropped` oldest records now, `total` ever. */
  onDropped?: (dropped: number, total: number) => void;
}

/** Counters for status reports. */
export interface SpoolingStats {
  /** Records published straight to the bus. */
  direct: number;
  /** Records appended to the spool. */
  spooled: number;
  /** Spooled records delivered by this collector's drains. */
  drained: number;
  /** Records this collector dropped from the full spool. */
  dropped: number;
  /** Records waiting in the spool (all collectors'). */
  depth: number;
}

const LEASE_MS = 30_000;

/** Publishes to a bus through a spool. */
export class SpoolingPublisher {
  private readonly owner = randomUUID();
  private spooling: boolean;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private retryDelay: number;
  private readonly counts = { direct: 0, spooled: 0, drained: 0, dropped: 0 };
  private readonly opts: Required<Pick<SpoolingPublisherOptions, 'drainBatch' | 'retryMinMs' | 'retryMaxMs'>>;

  /** Delivers through `send`; starts draining at once when the spool already holds records. */
  constructor(
    private readonly send: (topic: string, records: readonly OutgoingRecord[]) => Promise<void>,
    private readonly spool: DiskSpool,
    private readonly callbacks: SpoolingPublisherOptions = {},
  ) {
    this.opts = { drainBatch: 1000, retryMinMs: 250, retryMaxMs: 5000, ...callbacks };
    this.retryDelay = this.opts.retryMinMs;
    this.spooling = spool.hasRecords();
    if (this.spooling) this.schedule(0);
  }

  /** Publishes, or spools when the bus fails or older records wait; rejects only if the spool itself fails. */
  async publish(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (!this.spooling && !this.spool.hasRecords()) {
      try {
        await this.send(topic, records);
        this.counts.direct += records.length;
        return;
      } catch (error) {
        if (!this.spooling) this.callbacks.onSpooling?.(error instanceof Error ? error : new Error(String(error)));
        this.spooling = true;
      }
    }
    this.spooling = true;
    this.append(topic, records);
    this.schedule(this.retryDelay);
  }

  /** Tries to deliver the spool within `timeoutMs`; what remains stays on disk for the next collector. */
  async close(timeoutMs: number): Promise<SpoolingStats> {
    const deadline = Date.now() + timeoutMs;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.spooling && Date.now() < deadline) {
      await this.drain();
      if (this.spooling) await new Promise((resolve) => setTimeout(resolve, Math.min(this.retryDelay, Math.max(0, deadline - Date.now()))));
    }
    await this.draining;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.spool.release(this.owner);
    const stats = this.stats();
    this.spool.close();
    return stats;
  }

  /** Counters so far. */
  stats(): SpoolingStats {
    return { ...this.counts, depth: this.spool.depth().records };
  }

  private append(topic: string, records: readonly OutgoingRecord[]): void {
    const dropped = this.spool.append(topic, records);
    this.counts.spooled += records.length;
    if (dropped > 0) {
      this.counts.dropped += dropped;
      this.callbacks.onDropped?.(dropped, this.counts.dropped);
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.draining) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, delayMs);
    this.timer.unref();
  }

  private drain(): Promise<void> {
    this.draining ??= this.drainSpool().finally(() => {
      this.draining = undefined;
      if (this.spooling) this.schedule(this.retryDelay);
    });
    return this.draining;
  }

  /** Delivers the spool oldest first, one claimed slice at a time, each record run of one topic in one publish. */
  private async drainSpool(): Promise<void> {
    let delivered = 0;
    for (;;) {
      const claimed = this.spool.claim(this.owner, this.opts.drainBatch, LEASE_MS);
      if (!claimed) return this.backOff();
      if (claimed.length === 0) {
        this.spool.release(this.owner);
        this.spooling = false;
        this.retryDelay = this.opts.retryMinMs;
        this.callbacks.onDrained?.(delivered);
        return;
      }
      try {
        for (const run of topicRuns(claimed)) await this.send(run.topic, run.records);
      } catch {
        return this.backOff();
      }
      this.spool.remove((claimed.at(-1) as SpooledRecord).seq);
      delivered += claimed.length;
      this.counts.drained += claimed.length;
    }
  }

  private backOff(): void {
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.retryMaxMs);
  }
}

/** Consecutive records of one topic, in spool order. */
function topicRuns(records: readonly SpooledRecord[]): { topic: string; records: OutgoingRecord[] }[] {
  const runs: { topic: string; records: OutgoingRecord[] }[] = [];
  for (const record of records) {
    const last = runs.at(-1);
    const outgoing = { key: record.key, value: record.value };
    if (last && last.topic === record.topic) last.records.push(outgoing);
    else runs.push({ topic: record.topic, records: [outgoing] });
  }
  return runs;
}
