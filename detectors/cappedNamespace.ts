/**
 * A namespace of one StateStore partition that never holds more than a configured number of keys, so a
 * detector's memory stays bounded whatever the traffic (10,000 sessions on one server, a flood of new
 * argument values). Its size is kept beside it; when an insert goes over the cap, the least recently
 * used tenth is evicted in one scan, which keeps the cost per insert constant on average.
 */
import type { StateStore } from './stateStore.js';

/** What a capped namespace is: its name, its cap, and how to read an entry's last use (event time). */
export interface CappedNamespaceSpec<T> {
  namespace: string;
  cap: number;
  lastUsed(value: T): number;
}

/** Evicting a tenth at a time keeps the scan rare; at least one key always goes. */
const EVICTION_FRACTION = 0.1;
const SIZE_KEY = 'size';

/**
 * The namespace of each capped namespace's size, made once: a view is created per event, and a string built per
 * view is a new string for every state read to hash.
 */
const sizeNamespaces = new Map<string, string>();
function sizeNamespaceOf(namespace: string): string {
  let size = sizeNamespaces.get(namespace);
  if (size === undefined) {
    size = `${namespace}#size`;
    sizeNamespaces.set(namespace, size);
  }
  return size;
}

/** A bounded keyed view of one namespace in one partition. */
export class CappedNamespace<T> {
  readonly #state: StateStore;
  readonly #partition: string;
  readonly #spec: CappedNamespaceSpec<T>;
  readonly #sizeNamespace: string;

  /** A view over `partition`; cheap to create per event. */
  constructor(state: StateStore, partition: string, spec: CappedNamespaceSpec<T>) {
    if (!Number.isInteger(spec.cap) || spec.cap < 1) throw new Error(`capped namespace ${spec.namespace}: cap must be a positive integer (got ${spec.cap})`);
    this.#state = state;
    this.#partition = partition;
    this.#spec = spec;
    this.#sizeNamespace = sizeNamespaceOf(spec.namespace);
  }

  /** The value under `key`, or undefined. */
  get(key: string): T | undefined {
    return this.#state.get<T>(this.#partition, this.#spec.namespace, key);
  }

  /** The number of keys held. */
  size(): number {
    return this.#state.get<number>(this.#partition, this.#sizeNamespace, SIZE_KEY) ?? 0;
  }

  /**
   * Stores `value` under `key`. `existed` says whether the caller read a value there (it always reads
   * first), so the size is kept without a second read. Going over the cap evicts the least recently used.
   */
  put(key: string, value: T, existed: boolean): void {
    this.#state.put(this.#partition, this.#spec.namespace, key, value);
    if (existed) return;
    const size = this.size() + 1;
    this.#setSize(size);
    if (size > this.#spec.cap) this.#evict(key);
  }

  /** Removes `key` if it is held. */
  delete(key: string): void {
    if (this.get(key) === undefined) return;
    this.#state.delete(this.#partition, this.#spec.namespace, key);
    this.#setSize(this.size() - 1);
  }

  /** Every (key, value), in key order. */
  entries(): [string, T][] {
    return this.#state.entries<T>(this.#partition, this.#spec.namespace);
  }

  /** Removes every entry last used before `before`; returns how many went. */
  expire(before: number): number {
    const stale = this.entries().filter(([, value]) => this.#spec.lastUsed(value) < before);
    for (const [key] of stale) this.#state.delete(this.#partition, this.#spec.namespace, key);
    if (stale.length > 0) this.#setSize(this.size() - stale.length);
    return stale.length;
  }

  /** Removes every entry and the size. */
  clear(): void {
    for (const [key] of this.entries()) this.#state.delete(this.#partition, this.#spec.namespace, key);
    this.#state.delete(this.#partition, this.#sizeNamespace, SIZE_KEY);
  }

  #setSize(size: number): void {
    if (size <= 0) this.#state.delete(this.#partition, this.#sizeNamespace, SIZE_KEY);
    else this.#state.put(this.#partition, this.#sizeNamespace, SIZE_KEY, size);
  }

  /** Drops the least recently used entries (ties by key, so every run evicts the same ones), never `keep`. */
  #evict(keep: string): void {
    const all = this.entries().filter(([key]) => key !== keep);
    const count = Math.min(all.length, Math.max(1, Math.floor(this.#spec.cap * EVICTION_FRACTION)));
    all.sort(([keyA, a], [keyB, b]) => this.#spec.lastUsed(a) - this.#spec.lastUsed(b) || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0));
    for (const [key] of all.slice(0, count)) this.#state.delete(this.#partition, this.#spec.namespace, key);
    // Recount rather than subtract: the scan is the moment the true size is known.
    this.#setSize(all.length - count + 1);
  }
}
