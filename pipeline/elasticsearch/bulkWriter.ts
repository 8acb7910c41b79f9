/**
 * Writes documents to data streams through the client's bulk helper, with `create` and a deterministic _id, and
 * accounts for every document exactly once:
 *  - indexed → inserted;
 *  - 409 (that _id is already in the data stream) → a duplicate, as the embedded store counts it;
 *  - 429 (the cluster is pushing back) → retried with exponential backoff until it is taken;
 *  - any other per-document failure (a mapping conflict, a value the field cannot hold) → a dead letter;
 *  - a failure of the whole request (cluster down, unreachable, timing out, 5xx) → the writer pauses with
 *    exponential backoff and resends what was not yet accounted for, so nothing is lost and nothing is counted twice.
 * A write resolves only when every document is accounted for; that is the backpressure a bus consumer needs to commit
 * its offsets only after the batch is durable.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errors, type Client, type estypes } from '@elastic/elasticsearch';
import type { Logger } from '../logger.js';

/** One document to create; its id is deterministic (event.id, alert.fingerprint). */
export interface BulkDocument {
  id: string;
  document: Record<string, unknown>;
}

/** A document Elasticsearch refused for a reason retrying cannot fix. */
export interface EsDeadLetter {
  /** The data stream. */
  index: string;
  id: string;
  status: number;
  /** Elasticsearch's error type and reason, e.g. "document_parsing_exception: failed to parse field [...]". */
  error: string;
  document: Record<string, unknown>;
}

export interface BulkWriteResult {
  inserted: number;
  duplicates: number;
  deadLettered: number;
}

/** Exponential backoff bounds for 429s and for an unreachable cluster. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export interface BulkWriterOptions {
  /** Bytes per bulk request (default 5 MB, the helper's). */
  flushBytes?: number;
  /** Flush interval for streamed input (default 30 s, the helper's). */
  flushIntervalMs?: number;
  /** Concurrent bulk requests (default 2). */
  concurrency?: number;
  /**
   * Receives dead letters before the write resolves (e.g. publishes them to the bus's dead-letter topic). Without
   * it, a write with dead letters rejects, naming them, after the rest of its documents are stored.
   */
  deadLetters?: (letters: readonly EsDeadLetter[]) => Promise<void>;
  backoff?: Backoff;
  logger?: Logger;
}

/** Counters since the writer was created. */
export interface BulkWriterStats {
  /** Bulk rounds resent because of 429s. */
  throttledRounds: number;
  /** Times the writer paused because the cluster could not take a request. */
  pauses: number;
}

/** A write gave up because the store closed while it waited for the cluster; nothing it held was acknowledged. */
export class StoreClosedError extends Error {
  constructor() {
    super('elasticsearch: the store was closed while writes waited for the cluster');
  }
}

const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

/** Whether a request-level failure means "try again later" (the cluster is down, overloaded or unreachable). */
export function isTransientEsError(error: unknown): boolean {
  if (error instanceof errors.ConnectionError || error instanceof errors.TimeoutError || error instanceof errors.NoLivingConnectionsError) return true;
  return error instanceof errors.ResponseError && (error.statusCode === 429 || (error.statusCode ?? 0) >= 500);
}

/** "type: reason" of an Elasticsearch error cause. */
function describeCause(cause: estypes.ErrorCause | null): string {
  if (!cause) return 'no reason given';
  return `${cause.type}: ${cause.reason ?? ''}`.trim();
}

/** The bulk writer of one store; see the file comment for how it accounts for documents. */
export class BulkWriter {
  readonly stats: BulkWriterStats = { throttledRounds: 0, pauses: 0 };
  private readonly closing = new AbortController();
  private readonly backoff: Backoff;

  constructor(
    private readonly client: Client,
    private readonly options: BulkWriterOptions = {},
  ) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /**
   * Creates the documents in one data stream; resolves once each one is inserted, a duplicate or a delivered dead
   * letter. A repeated id within the call is a duplicate, as if it had been written twice.
   */
  async write(index: string, documents: readonly BulkDocument[]): Promise<BulkWriteResult> {
    const result: BulkWriteResult = { inserted: 0, duplicates: 0, deadLettered: 0 };
    const pending = new Map<string, BulkDocument>();
    for (const document of documents) {
      if (pending.has(document.id)) result.duplicates += 1;
      else pending.set(document.id, document);
    }
    const letters: EsDeadLetter[] = [];
    let throttledDelay = this.backoff.initialMs;
    let downAttempts = 0;
    while (pending.size > 0) {
      if (this.closing.signal.aborted) throw new StoreClosedError();
      const before = pending.size;
      let throttled = 0;
      try {
        await this.round(index, pending, result, letters, () => (throttled += 1));
      } catch (error) {
        if (!isTransientEsError(error)) throw new Error(`elasticsearch: bulk request to ${index} refused: ${(error as Error).message}`, { cause: error });
        await this.waitForRetry(downAttempts++, error);
        continue;
      }
      if (downAttempts > 0) this.options.logger?.info({ pending: pending.size }, 'elasticsearch reachable again; writes resumed');
      downAttempts = 0;
      if (throttled > 0) {
        this.stats.throttledRounds += 1;
        // A round that made progress resets the backoff; one that only got 429s backs off further.
        throttledDelay = pending.size < before ? this.backoff.initialMs : Math.min(throttledDelay * 2, this.backoff.maxMs);
        this.options.logger?.debug({ throttled, retryInMs: throttledDelay }, 'elasticsearch returned 429; retrying');
        await this.pause(throttledDelay);
      }
    }
    await this.deliver(letters);
    result.deadLettered = letters.length;
    return result;
  }

  /**
   * Pauses after a request-level failure: the `attempt`-th consecutive one waits initialMs·2^attempt, at most maxMs.
   * Rejects with StoreClosedError if the writer is closed meanwhile.
   */
  async waitForRetry(attempt: number, error: unknown): Promise<void> {
    const delay = Math.min(this.backoff.initialMs * 2 ** Math.min(attempt, 30), this.backoff.maxMs);
    this.stats.pauses += 1;
    this.options.logger?.warn({ err: error, retryInMs: delay }, 'elasticsearch unreachable; writes paused');
    await this.pause(delay);
  }

  /** Stops waiting: a write paused on backoff rejects, and no new round starts. */
  close(): void {
    this.closing.abort();
  }

  /** One pass of the bulk helper over the pending documents; accounted documents leave `pending`. */
  private async round(index: string, pending: Map<string, BulkDocument>, result: BulkWriteResult, letters: EsDeadLetter[], onThrottled: () => void): Promise<void> {
    await this.client.helpers.bulk<BulkDocument>({
      datasource: [...pending.values()],
      onDocument: (document) => [{ create: { _index: index, _id: document.id } }, document.document],
      // 429s come back to onDrop at once and are retried here, with backoff rather than the helper's fixed wait.
      retries: 0,
      concurrency: this.options.concurrency ?? 2,
      refreshOnCompletion: false,
      ...(this.options.flushBytes === undefined ? {} : { flushBytes: this.options.flushBytes }),
      ...(this.options.flushIntervalMs === undefined ? {} : { flushInterval: this.options.flushIntervalMs }),
      onSuccess: ({ result: item }) => {
        if (pending.delete(item.create?._id ?? '')) result.inserted += 1;
      },
      onDrop: (drop) => {
        const id = (drop.operation as { create?: { _id?: string } }).create?._id ?? '';
        const document = pending.get(id);
        if (!document) return;
        if (drop.status === 429) {
          onThrottled();
          return;
        }
        pending.delete(id);
        if (drop.status === 409) result.duplicates += 1;
        else letters.push({ index, id, status: drop.status, error: describeCause(drop.error), document: document.document });
      },
    });
  }

  private async deliver(letters: readonly EsDeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    if (this.options.deadLetters) {
      await this.options.deadLetters(letters);
      return;
    }
    const listed = letters.slice(0, 5).map((l) => `${l.index}/${l.id} (${l.status} ${l.error})`).join('; ');
    throw new Error(`elasticsearch: ${letters.length} document(s) refused and no dead-letter queue is configured: ${listed}${letters.length > 5 ? '; …' : ''}`);
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.closing.signal });
    } catch {
      throw new StoreClosedError();
    }
  }
}
