/**
 * Where stateful detectors keep what they remember (pins, baselines, recent content). State is
 * grouped in partitions — a host session, or a server identity — so that a Kafka worker can own
 * the partitions of the keys it consumes and N workers produce the same alerts as one.
 */

export interface StateStore {
  /** The value stored under (namespace, key) in a partition, or undefined. */
  get<T>(partition: string, namespace: string, key: string): T | undefined;
  /** Stores a JSON-serializable value. */
  put<T>(partition: string, namespace: string, key: string, value: T): void;
  delete(partition: string, namespace: string, key: string): void;
  /** Every (key, value) of a namespace in a partition, in key order. */
  entries<T>(partition: string, namespace: string): [string, T][];
  /** Every partition that has a value in the namespace (for scheduled roll-ups and fleet views). */
  partitions(namespace: string): string[];
  /**
   * Runs `work` atomically: its writes, and the consumer position given, become durable together,
   * so a worker restarted after a crash neither loses nor re-applies a batch.
   */
  transaction<R>(work: () => R, position?: { source: string; offset: number }): R;
  /** The position last recorded by transaction(), or -1. */
  position(source: string): number;
  /**
   * For a store that caches what it hands out: forget values a batch may have changed in place without committing
   * them. DetectorRuntime calls it before each batch.
   */
  forgetUncommitted?(): void;
  close(): void;
}
