/**
 * Batching with linger for the Kafka producer. kafkajs sends each send() call as its own request; publishes that
 * arrive within `lingerMs` of each other are sent together in one request (one record batch per partition), and
 * every caller's promise settles with that request.
 */
import type { OutgoingRecord } from '../bus.js';

/** Sends the records gathered for each topic in one request. */
export type BatchSender = (byTopic: Map<string, OutgoingRecord[]>) => Promise<void>;

interface Pending {
  byTopic: Map<string, OutgoingRecord[]>;
  count: number;
  waiters: { resolve: () => void; reject: (error: Error) => void }[];
}

/** Gathers records for up to `lingerMs` (or `maxRecords`) before one send. */
export class LingerBatcher {
  private pending: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  /** Sends through `send`; lingerMs 0 still gathers the publishes of one tick. */
  constructor(
    private readonly send: BatchSender,
    private readonly lingerMs: number,
    private readonly maxRecords: number,
  ) {}

  /** Adds records; resolves when the request carrying them is acknowledged. */
  add(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const pending: Pending = (this.pending ??= { byTopic: new Map<string, OutgoingRecord[]>(), count: 0, waiters: [] });
    const list = pending.byTopic.get(topic);
    if (list) list.push(...records);
    else pending.byTopic.set(topic, [...records]);
    pending.count += records.length;
    const settled = new Promise<void>((resolve, reject) => pending.waiters.push({ resolve, reject }));
    if (pending.count >= this.maxRecords) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    return settled;
  }

  /** Sends what is gathered now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    const sent = this.send(pending.byTopic).then(
      () => pending.waiters.forEach((w) => w.resolve()),
      (error: unknown) => pending.waiters.forEach((w) => w.reject(error instanceof Error ? error : new Error(String(error)))),
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  /** Sends what is gathered and waits for every request in flight. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all(this.inFlight);
  }
}
