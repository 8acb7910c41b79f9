/**
 * The writes of one batch of events, held in memory over a StateStore until the batch's alerts are safely stored.
 * Detectors read through it (their own writes first, then the store) and write into it; commit() then applies every
 * write in one store transaction together with the bus position. A crash before commit leaves the store as it was,
 * so the batch is processed again from the same state and raises the same alerts (same fingerprints).
 */
import { compareKeys } from './stateKeyOrder.js';
import type { StateStore } from './stateStore.js';

/** The pending write of a deletion (any other pending write is the new value). */
const DELETED = Symbol('deleted');

/** Thrown by commit() when the store's position is no longer the one the batch started from. */
export class PositionConflictError extends Error {}

/** A StateStore view that buffers writes; commit() makes them durable in one transaction. */
export class StateBatch implements StateStore {
  /** namespace → partition → key → pending value. */
  private readonly writes = new Map<string, Map<string, Map<string, unknown>>>();

  /** Buffers over `base`. */
  constructor(private readonly base: StateStore) {}

  /** Whether the batch holds any write. */
  get dirty(): boolean {
    return this.writes.size > 0;
  }

  /** The batch's value if it wrote one, else the store's. */
  get<T>(partition: string, namespace: string, key: string): T | undefined {
    const keys = this.writes.get(namespace)?.get(partition);
    if (keys?.has(key)) {
      const value = keys.get(key);
      return value === DELETED ? undefined : (value as T);
    }
    return this.base.get<T>(partition, namespace, key);
  }

  /** Buffers the value. Values are kept by reference: a detector must not mutate an object after putting it. */
  put<T>(partition: string, namespace: string, key: string, value: T): void {
    this.keysOf(namespace, partition).set(key, value);
  }

  /** Buffers the deletion. */
  delete(partition: string, namespace: string, key: string): void {
    this.keysOf(namespace, partition).set(key, DELETED);
  }

  /** The store's entries with the batch's writes applied, in key order. */
  entries<T>(partition: string, namespace: string): [string, T][] {
    const keys = this.writes.get(namespace)?.get(partition);
    const stored = this.base.entries<T>(partition, namespace);
    if (!keys) return stored;
    const merged = new Map<string, T>(stored);
    for (const [key, value] of keys) {
      if (value === DELETED) merged.delete(key);
      else merged.set(key, value as T);
    }
    return [...merged].sort(([a], [b]) => compareKeys(a, b));
  }

  /** The store's partitions of the namespace with the batch's writes applied, sorted. */
  partitions(namespace: string): string[] {
    const touched = this.writes.get(namespace);
    const stored = this.base.partitions(namespace);
    if (!touched) return stored;
    const all = new Set([...stored, ...touched.keys()]);
    // A partition the batch wrote a value to has one; only one it only deleted from needs a look at the store.
    const hasValue = (partition: string): boolean => {
      const keys = touched.get(partition);
      if (!keys) return true;
      for (const value of keys.values()) if (value !== DELETED) return true;
      return this.entries(partition, namespace).length > 0;
    };
    return [...all].filter(hasValue).sort(compareKeys);
  }

  /** Runs `work` directly: the batch as a whole is the transaction, made durable by commit(). */
  transaction<R>(work: () => R): R {
    return work();
  }

  /** The store's position. */
  position(source: string): number {
    return this.base.position(source);
  }

  /**
   * Applies every buffered write and the new position in one store transaction, provided the store's position for
   * `position.source` is still `expected` (another worker has not processed the same records meanwhile).
   */
  commit(position?: { source: string; offset: number }, expected?: number): void {
    this.base.transaction(() => {
      if (position && expected !== undefined) {
        const current = this.base.position(position.source);
        if (current !== expected) {
          throw new PositionConflictError(`state position of ${position.source} moved from ${expected} to ${current} under this worker: is another detector worker running on the same state?`);
        }
      }
      for (const [namespace, partitions] of this.writes) {
        for (const [partition, keys] of partitions) {
          for (const [key, value] of keys) {
            if (value === DELETED) this.base.delete(partition, namespace, key);
            else this.base.put(partition, namespace, key, value);
          }
        }
      }
    }, position);
    this.writes.clear();
  }

  /** Drops every buffered write. */
  discard(): void {
    this.writes.clear();
  }

  /** Nothing to close: the store belongs to the caller. */
  close(): void {}

  private keysOf(namespace: string, partition: string): Map<string, unknown> {
    let partitions = this.writes.get(namespace);
    if (!partitions) {
      partitions = new Map();
      this.writes.set(namespace, partitions);
    }
    let keys = partitions.get(partition);
    if (!keys) {
      keys = new Map();
      partitions.set(partition, keys);
    }
    return keys;
  }
}
