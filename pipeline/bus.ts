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

export interface Bus {
  /** Appends records in order; resolves once they are durable. */
  publish(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  /** Opens a consumer positioned after the group's committed offset. */
  consumer(group: string, topic: string): Promise<BusConsumer>;
  /** Records in the topic after the group's committed offset. */
  lag(group: string, topic: string): Promise<number>;
  close(): Promise<void>;
}

/** Topic names used across Tapwire. */
export const TOPICS = {
  events: 'mcp.events',
  alerts: 'mcp.alerts',
  deadLetters: 'mcp.dead-letters',
} as const;
