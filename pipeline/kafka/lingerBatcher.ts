/**
 * Batching with linger for the Kafka producer. kafkajs sends each send() call as its own request; publishes that
 * arrive within `lingerMs` of each other are sent together in one request (one record batch per partition), and
 * every caller's promise settles with that request. A request is also cut at `maxBytes` of keys and values, so it
 * stays under the broker's message.max.bytes (1 MiB by default) whatever the linger gathered.
 */
import type { OutgoingRecord } from '../bus.js';

/** Sends the records gathered for each topic in one request. */
export type BatchSender = (byTopic: Map<string, OutgoingRecord[]>) => Promise<void>;

interface Pending {
  byTopic: Map<string, OutgoingRecord[]>;
  count: number;
  bytes: number;
  waiters: { resolve: () => void; reject: (error: Error) => void }[];
}

/** The bytes a record adds to a request, before compression: its key and value. */
export function recordBytes(record: OutgoingRecord): number {
  return Buffer.byteLength(record.value) + (record.key === undefined || record.key === null ? 0 : Buffer.byteLength(record.key));
}

/** Gathers records for up to `lingerMs` (or `maxRecords`, or `maxBytes`) before one send. */
export class LingerBatcher {
  private pending: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  /** Sends through `send`; lingerMs 0 still gathers the publishes of one tick. */
  constructor(
    private readonly send: BatchSender,
    private readonly lingerMs: number,
    private readonly maxRecords: number,
    private readonly maxBytes: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Adds records; resolves when the request(s) carrying them are acknowledged. */
  add(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const bytes = records.reduce((sum, record) => sum + recordBytes(record), 0);
    if (records.length > 1 && bytes > this.maxBytes) {
      // Too many bytes for one request: in parts, in order (each part then fills a request of its own).
      const half = Math.ceil(records.length / 2);
      return Promise.all([this.add(topic, records.slice(0, half)), this.add(topic, records.slice(half))]).then(() => undefined);
    }
    if (this.pending && this.pending.bytes + bytes > this.maxBytes) this.flush();
    const pending: Pending = (this.pending ??= { byTopic: new Map<string, OutgoingRecord[]>(), count: 0, bytes: 0, waiters: [] });
    const list = pending.byTopic.get(topic);
    if (list) list.push(...records);
    else pending.byTopic.set(topic, [...records]);
    pending.count += records.length;
    pending.bytes += bytes;
    const settled = new Promise<void>((resolve, reject) => pending.waiters.push({ resolve, reject }));
    if (pending.count >= this.maxRecords || pending.bytes >= this.maxBytes) this.flush();
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
