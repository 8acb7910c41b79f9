/**
 * The embedded StateStore: detector state in one SQLite file (the `state` path of the Tapwire home), or in memory
 * (`:memory:`) for a replay that starts fresh. Values are JSON; a position row per source records how far a worker
 * got, written in the same transaction as the state it produced.
 *
 * Reads are served from memory (issue 13: a SQLite read and a JSON parse of the row cost a detector more than its
 * own logic): get() keeps each committed value it read or wrote, parsed, and hands out that object. The file stays
 * the truth:
 *  - writes reach the cache only when their transaction commits (the StateBatch writes behind, once per batch);
 *  - a value handed out since the last commit may have been changed in place by a detector on its way to a put()
 *    that never committed: forgetUncommitted() (DetectorRuntime.batch() calls it) then empties the cache before a
 *    new batch (rare: every batch of the live loops and of replay commits, and the cache refills as it is read);
 *  - another connection's commit (`tapwire approve` writing a decision) empties the cache before the next read
 *    after a commit of ours or at the next batch (SQLite's data_version tells).
 * entries() is served from memory the same way: the committed entries of a (namespace, partition) it read are kept in
 * key order, a commit applies its writes to them (a detector that appends to a window and reads the window back on
 * every event, as the cross-server detector does, pays no SQLite scan and no JSON parse), and the rules above for
 * values handed out and other writers apply to them too. The cache is nested by namespace, partition and key: a
 * detector's partition string is the event's own, whose hash V8 keeps, where a joined key was a new string to hash
 * on every read.
 * A detector must therefore change a value it got only to put it back, as StateBatch already requires.
 */
import type { Transaction } from 'better-sqlite3';
import { openSqliteDatabase, type SqliteDatabase, type SqliteStatement } from '../pipeline/embedded/sqliteDatabase.js';
import { compareKeys } from './stateKeyOrder.js';
import type { StateStore } from './stateStore.js';

const STATE_SCHEMA = {
  applicationId: 0x54_57_54_31, // "TWT1"
  role: 'detector state',
  migrations: [
    `CREATE TABLE state (
       namespace TEXT NOT NULL,
       partition TEXT NOT NULL,
       key TEXT NOT NULL,
       value TEXT NOT NULL,
       PRIMARY KEY (namespace, partition, key)
     ) WITHOUT ROWID;
     CREATE TABLE positions (
       source TEXT PRIMARY KEY,
       "offset" INTEGER NOT NULL
     ) WITHOUT ROWID;`,
  ],
} as const;

/** A stored value that is not JSON: the state file was edited or damaged; the message names file, partition and key. */
export class StateValueError extends Error {
  /** Names where the bad value sits. */
  constructor(file: string, partition: string, namespace: string, key: string, detail: string) {
    super(`${file}: detector state ${namespace}/${key} of partition '${partition}' is not valid JSON (${detail})`);
    this.name = 'StateValueError';
  }
}

/** Marks a key the cache knows to be absent. */
const ABSENT = Symbol('absent');

/** Most values and entries the read cache holds; beyond, it starts over (values are read again when asked). */
const CACHE_ENTRIES = 200_000;

type Entry = [string, unknown];

/** What the cache knows of one (namespace, partition). */
interface CachedGroup {
  /** Committed values by key (ABSENT: known not stored). */
  values: Map<string, unknown>;
  /** Every committed entry in key order, once entries() read them (later commits applied). */
  entries: Entry[] | undefined;
}

/** namespace → partition → key → value, of the writes of the open transaction. */
type PendingWrites = Map<string, Map<string, Map<string, unknown>>>;

/** Where `key` is, or would be inserted, in entries sorted by compareKeys. */
function positionOf(entries: readonly Entry[], key: string): { index: number; found: boolean } {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = compareKeys((entries[middle] as Entry)[0], key);
    if (order === 0) return { index: middle, found: true };
    if (order < 0) low = middle + 1;
    else high = middle;
  }
  return { index: low, found: false };
}

/** The value under `key` in a map of maps, made on first use. */
function inner<V>(outer: Map<string, V>, key: string, make: () => V): V {
  let value = outer.get(key);
  if (value === undefined) {
    value = make();
    outer.set(key, value);
  }
  return value;
}

/** StateStore over SQLite; one connection per process, transactions take the write lock up front. */
export class EmbeddedStateStore implements StateStore {
  private readonly db: SqliteDatabase;
  /** Committed values and entries: namespace → partition → group. */
  private readonly cache = new Map<string, Map<string, CachedGroup>>();
  /** How many values and entries the cache holds. */
  private cached = 0;
  /** Whether a cached object was handed out since the last commit. */
  private handedOut = false;
  /** Writes of the open transaction, applied to the cache when it commits. */
  private pending: PendingWrites | undefined;
  /** SQLite's data_version when the cache was last known current (it changes only for other connections' commits). */
  private dataVersion: number | undefined;
  /** Whether data_version was read since the last commit or batch start. */
  private versionChecked = false;
  private readonly statements: Record<'get' | 'put' | 'delete' | 'entries' | 'partitions' | 'position' | 'setPosition', SqliteStatement>;
  private readonly atomically: Transaction<(work: () => unknown, position?: { source: string; offset: number }) => unknown>;

  /** Opens (creating if needed) the state file; ':memory:' keeps state in this process only. */
  constructor(readonly file: string) {
    this.db = openSqliteDatabase(file, STATE_SCHEMA);
    this.statements = {
      get: this.db.prepare('SELECT value FROM state WHERE namespace = ? AND partition = ? AND key = ?').pluck(),
      put: this.db.prepare(
        'INSERT INTO state (namespace, partition, key, value) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
      ),
      delete: this.db.prepare('DELETE FROM state WHERE namespace = ? AND partition = ? AND key = ?'),
      entries: this.db.prepare('SELECT key, value FROM state WHERE namespace = ? AND partition = ? ORDER BY key'),
      partitions: this.db.prepare('SELECT DISTINCT partition FROM state WHERE namespace = ? ORDER BY partition').pluck(),
      position: this.db.prepare('SELECT "offset" FROM positions WHERE source = ?').pluck(),
      setPosition: this.db.prepare(
        'INSERT INTO positions (source, "offset") VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET "offset" = excluded."offset"',
      ),
    };
    this.atomically = this.db.transaction((work, position) => {
      const result = work();
      if (position) this.statements.setPosition.run(position.source, position.offset);
      return result;
    });
  }

  /** The value stored under (namespace, key) in a partition, or undefined; the object is the cache's (see above). */
  get<T>(partition: string, namespace: string, key: string): T | undefined {
    if (this.pending?.get(namespace)?.get(partition)?.has(key)) return this.readThrough<T>(partition, namespace, key);
    this.checkOtherWriters();
    const group = this.groupOf(namespace, partition);
    let value = group.values.get(key);
    if (value === undefined) {
      value = group.entries === undefined ? this.readValue(partition, namespace, key) : this.valueIn(group.entries, key);
      group.values.set(key, value);
      this.grew(1);
    }
    if (value === ABSENT) return undefined;
    this.handedOut = true;
    return value as T;
  }

  /** Stores a JSON-serializable value. */
  put<T>(partition: string, namespace: string, key: string, value: T): void {
    this.statements.put.run(namespace, partition, key, JSON.stringify(value));
    this.written(partition, namespace, key, value);
  }

  /** Removes the value, if any. */
  delete(partition: string, namespace: string, key: string): void {
    this.statements.delete.run(namespace, partition, key);
    this.written(partition, namespace, key, ABSENT);
  }

  /**
   * Empties the read cache if a value was handed out since the last commit: a batch that did not commit may have
   * changed it in place. Called before each batch; after a committed one there is nothing to forget.
   */
  forgetUncommitted(): void {
    if (this.handedOut) this.forgetAll();
    this.versionChecked = false;
  }

  /** Every (key, value) of a namespace in a partition, in key order; the array is the caller's, the values the cache's. */
  entries<T>(partition: string, namespace: string): [string, T][] {
    if (this.pending?.get(namespace)?.has(partition)) return this.readEntries<T>(partition, namespace);
    this.checkOtherWriters();
    const group = this.groupOf(namespace, partition);
    if (group.entries === undefined) {
      group.entries = this.readEntries(partition, namespace);
      this.grew(group.entries.length);
    }
    this.handedOut = true;
    return group.entries.slice() as [string, T][];
  }

  /** Every partition that has a value in the namespace. */
  partitions(namespace: string): string[] {
    return this.statements.partitions.all(namespace) as string[];
  }

  /**
   * Runs `work` in one IMMEDIATE transaction (the write lock is taken before the first read, so a position read
   * inside `work` cannot be changed by another process before the commit); `position` is written with it.
   */
  transaction<R>(work: () => R, position?: { source: string; offset: number }): R {
    if (this.pending !== undefined) return this.atomically.immediate(work, position) as R;
    const pending: PendingWrites = new Map();
    this.pending = pending;
    try {
      const result = this.atomically.immediate(work, position) as R;
      this.pending = undefined;
      for (const [namespace, partitions] of pending) for (const [partition, writes] of partitions) this.apply(namespace, partition, writes);
      this.handedOut = false;
      this.versionChecked = false;
      return result;
    } finally {
      this.pending = undefined;
    }
  }

  /** The position last recorded by transaction(), or -1. */
  position(source: string): number {
    return (this.statements.position.get(source) as number | undefined) ?? -1;
  }

  /** Closes the connection. */
  close(): void {
    this.db.close();
  }

  /** The committed value of a key from the file, or ABSENT. */
  private readValue(partition: string, namespace: string, key: string): unknown {
    const text = this.statements.get.get(namespace, partition, key) as string | undefined;
    return text === undefined ? ABSENT : this.parse(text, partition, namespace, key);
  }

  /** The value of a key from a group's kept entries (every committed one), or ABSENT: no SQLite read needed. */
  private valueIn(entries: readonly Entry[], key: string): unknown {
    const { index, found } = positionOf(entries, key);
    return found ? (entries[index] as Entry)[1] : ABSENT;
  }

  /** Inside a transaction that wrote the key: the file's (uncommitted) value, not cached. */
  private readThrough<T>(partition: string, namespace: string, key: string): T | undefined {
    const value = this.readValue(partition, namespace, key);
    return value === ABSENT ? undefined : (value as T);
  }

  /** The file's entries of a (namespace, partition), parsed. */
  private readEntries<T>(partition: string, namespace: string): [string, T][] {
    const rows = this.statements.entries.all(namespace, partition) as { key: string; value: string }[];
    return rows.map((row) => [row.key, this.parse<T>(row.value, partition, namespace, row.key)]);
  }

  private groupOf(namespace: string, partition: string): CachedGroup {
    // Called on every read: no closures to allocate, as inner() would take.
    let partitions = this.cache.get(namespace);
    if (partitions === undefined) {
      partitions = new Map();
      this.cache.set(namespace, partitions);
    }
    let group = partitions.get(partition);
    if (group === undefined) {
      group = { values: new Map(), entries: undefined };
      partitions.set(partition, group);
    }
    return group;
  }

  private written(partition: string, namespace: string, key: string, value: unknown): void {
    if (this.pending === undefined) this.apply(namespace, partition, new Map([[key, value]]));
    else inner(inner(this.pending, namespace, () => new Map()), partition, () => new Map()).set(key, value);
  }

  /** Applies committed writes to the cache: the values, and the entries in key order if they are kept. */
  private apply(namespace: string, partition: string, writes: ReadonlyMap<string, unknown>): void {
    const group = this.groupOf(namespace, partition);
    let added = 0;
    for (const [key, value] of writes) {
      if (!group.values.has(key)) added++;
      group.values.set(key, value);
      const entries = group.entries;
      if (entries === undefined) continue;
      const { index, found } = positionOf(entries, key);
      if (value === ABSENT) {
        if (found) entries.splice(index, 1);
      } else if (found) {
        // A new pair: an array entries() handed out before holds the old one.
        entries[index] = [key, value];
      } else {
        entries.splice(index, 0, [key, value]);
        added++;
      }
    }
    this.grew(added);
  }

  /** Counts what the cache took in; starting over past the bound is O(1) and always safe (the file is the truth). */
  private grew(count: number): void {
    this.cached += count;
    if (this.cached > CACHE_ENTRIES) this.forgetAll();
  }

  private forgetAll(): void {
    this.cache.clear();
    this.cached = 0;
  }

  /** Empties the cache when another connection committed since the last check (once per batch and per commit). */
  private checkOtherWriters(): void {
    if (this.versionChecked) return;
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (this.dataVersion !== undefined && version !== this.dataVersion) this.forgetAll();
    this.dataVersion = version;
    this.versionChecked = true;
  }

  private parse<T>(text: string, partition: string, namespace: string, key: string): T {
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new StateValueError(this.file, partition, namespace, key, (error as Error).message);
    }
  }
}
