/**
 * The event bus contract. The embedded SQLite log and Kafka both implement it, so collectors and
 * detector workers never know which one carries their records.
 */

/** A record as a producer hands it to the bus. `key` keeps related records (a host session) ordered. */
export interface OutgoingRecord {
  key: string;
  value: string;
}

/** A record as a consumer receives it. Offsets grow strictly within a topic (per partition on Kafka). */
export interface ConsumedRecord {
  offset: number;
  key: string;
  value: string;
  /** Epoch milliseconds at which the bus accepted the record. */
  timestamp: number;
}

/** A reader of one topic on behalf of a consumer group. */
export interface BusConsumer {
  /** The next records after the current position (at most `max`); advances the position. */
  poll(max: number): Promise<ConsumedRecord[]>;
  /** Makes `offset` durable for the group: a new consumer resumes after it. */
  commit(offset: number): Promise<void>;
  /** Moves the position so that the next poll starts after `offset` (-1: from the start). */
  seek(offset: number): void;
  close(): Promise<void>;
}

/** Records of one partition of a topic, handed to a group member in offset order. */
export interface PartitionBatch {
  topic: string;
  /** Always 0 on the embedded bus. */
  partition: number;
  records: readonly ConsumedRecord[];
  /** False once this member no longer owns the partition (a rebalance moved it, or the member is stopping). */
  owned(): boolean;
  /** Tells the group this member is alive during long work. */
  heartbeat(): Promise<void>;
}

/**
 * Processes one batch. Resolving means the batch's effects are durable: the bus then commits past it. A throw means
 * "not done": the bus retries the same batch after a pause, for as long as this member owns the partition.
 */
export type BatchHandler = (batch: PartitionBatch) => Promise<void>;

export interface SubscribeOptions {
  /** Told the partitions this member owns after each rebalance. */
  onAssignment?: (partitions: { topic: string; partition: number }[]) => void;
  /** Told each failed attempt at a batch, before it is retried. */
  onRetry?: (error: Error, batch: PartitionBatch) => void;
}

/** A member of a consumer group, handing batches to its handler until stopped. */
export interface Subscription {
  /** Settles when the member has stopped; rejects if it failed for good. */
  readonly done: Promise<void>;
  /** Lets the batch in hand finish (and commit), then leaves the group. */
  stop(): Promise<void>;
}

export interface Bus {
  /** Appends records in order; resolves once they are durable. */
  publish(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  /** Opens a consumer positioned after the group's committed offset. */
  consumer(group: string, topic: string): Promise<BusConsumer>;
  /**
   * Joins a consumer group on `topics`: the group's members share the topics' partitions, and each batch is committed
   * once `handler` resolves (at-least-once delivery). The embedded bus has one partition per topic.
   */
  subscribe(group: string, topics: readonly string[], handler: BatchHandler, options?: SubscribeOptions): Promise<Subscription>;
  /** Records in the topic after the group's committed offset. */
  lag(group: string, topic: string): Promise<number>;
  close(): Promise<void>;
}

/** Topic names used across Tapwire. */
export const TOPICS = {
  events: 'mcp.events',
  alerts: 'mcp.alerts',
  deadLetters: 'mcp.dead-letters',
  /** Events again, keyed by server identity, for detectors whose state is per server (drift, inventory). */
  serverEvents: 'mcp.server-events',
} as const;
