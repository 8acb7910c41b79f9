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
 *    that never committed: forgetUncommitted() (DetectorRuntime.batch() calls it) drops those before a new batch;
 *  - another connection's commit (`tapwire approve` writing a decision) empties the cache before the next read
 *    after a commit of ours or at the next batch (SQLite's data_version tells).
 * A detector must therefore change a value it got only to put it back, as StateBatch already requires.
 */
import type { Transaction } from 'better-sqlite3';
import { openSqliteDatabase, type SqliteDatabase, type SqliteStatement } from '../pipeline/embedded/sqliteDatabase.js';
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

/** Most values the read cache holds; beyond, it starts over (values are read again when asked). */
const CACHE_ENTRIES = 200_000;

const cacheKey = (partition: string, namespace: string, key: string): string => `${namespace}\u0000${partition}\u0000${key}`;

/** StateStore over SQLite; one connection per process, transactions take the write lock up front. */
export class EmbeddedStateStore implements StateStore {
  private readonly db: SqliteDatabase;
  /** Committed values by cacheKey (ABSENT: known not stored). */
  private readonly cache = new Map<string, unknown>();
  /** Keys whose cached object was handed out since the last commit. */
  private readonly handedOut = new Set<string>();
  /** Writes of the open transaction, applied to the cache when it commits. */
  private pending: Map<string, unknown> | undefined;
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
    const id = cacheKey(partition, namespace, key);
    if (this.pending?.has(id)) return this.readThrough<T>(partition, namespace, key);
    this.checkOtherWriters();
    let value = this.cache.get(id);
    if (value === undefined) {
      const text = this.statements.get.get(namespace, partition, key) as string | undefined;
      value = text === undefined ? ABSENT : this.parse<T>(text, partition, namespace, key);
      this.remember(id, value);
    }
    if (value === ABSENT) return undefined;
    this.handedOut.add(id);
    return value as T;
  }

  /** Stores a JSON-serializable value. */
  put<T>(partition: string, namespace: string, key: string, value: T): void {
    this.statements.put.run(namespace, partition, key, JSON.stringify(value));
    this.written(cacheKey(partition, namespace, key), value);
  }

  /** Removes the value, if any. */
  delete(partition: string, namespace: string, key: string): void {
    this.statements.delete.run(namespace, partition, key);
    this.written(cacheKey(partition, namespace, key), ABSENT);
  }

  /**
   * Drops from the read cache every value handed out since the last commit: a batch that did not commit may have
   * changed them in place. Called before each batch; after a committed one there is nothing to drop.
   */
  forgetUncommitted(): void {
    for (const id of this.handedOut) this.cache.delete(id);
    this.handedOut.clear();
    this.versionChecked = false;
  }

  /** Every (key, value) of a namespace in a partition, in key order. */
  entries<T>(partition: string, namespace: string): [string, T][] {
    const rows = this.statements.entries.all(namespace, partition) as { key: string; value: string }[];
    return rows.map((row) => [row.key, this.parse<T>(row.value, partition, namespace, row.key)]);
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
    this.pending = new Map();
    try {
      const result = this.atomically.immediate(work, position) as R;
      for (const [id, value] of this.pending) this.remember(id, value);
      this.handedOut.clear();
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

  /** Inside a transaction that wrote the key: the file's (uncommitted) value, not cached. */
  private readThrough<T>(partition: string, namespace: string, key: string): T | undefined {
    const text = this.statements.get.get(namespace, partition, key) as string | undefined;
    return text === undefined ? undefined : this.parse<T>(text, partition, namespace, key);
  }

  private written(id: string, value: unknown): void {
    if (this.pending !== undefined) this.pending.set(id, value);
    else this.remember(id, value);
  }

  private remember(id: string, value: unknown): void {
    this.cache.set(id, value);
    // Starting over is O(1) and always safe (the file is the truth); dropping the oldest entry one by one is not O(1)
    // in a Map whose front is made of deleted slots.
    if (this.cache.size > CACHE_ENTRIES) this.cache.clear();
  }

  /** Empties the cache when another connection committed since the last check (once per batch and per commit). */
  private checkOtherWriters(): void {
    if (this.versionChecked) return;
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (this.dataVersion !== undefined && version !== this.dataVersion) this.cache.clear();
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
