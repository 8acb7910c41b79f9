/**
 * The embedded StateStore: detector state in one SQLite file (the `state` path of the Tapwire home), or in memory
 * (`:memory:`) for a replay that starts fresh. Values are JSON; a position row per source records how far a worker
 * got, written in the same transaction as the state it produced.
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

/** StateStore over SQLite; one connection per process, transactions take the write lock up front. */
export class EmbeddedStateStore implements StateStore {
  private readonly db: SqliteDatabase;
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

  /** The value stored under (namespace, key) in a partition, or undefined. */
  get<T>(partition: string, namespace: string, key: string): T | undefined {
    const text = this.statements.get.get(namespace, partition, key) as string | undefined;
    return text === undefined ? undefined : this.parse<T>(text, partition, namespace, key);
  }

  /** Stores a JSON-serializable value. */
  put<T>(partition: string, namespace: string, key: string, value: T): void {
    this.statements.put.run(namespace, partition, key, JSON.stringify(value));
  }

  /** Removes the value, if any. */
  delete(partition: string, namespace: string, key: string): void {
    this.statements.delete.run(namespace, partition, key);
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
    return this.atomically.immediate(work, position) as R;
  }

  /** The position last recorded by transaction(), or -1. */
  position(source: string): number {
    return (this.statements.position.get(source) as number | undefined) ?? -1;
  }

  /** Closes the connection. */
  close(): void {
    this.db.close();
  }

  private parse<T>(text: string, partition: string, namespace: string, key: string): T {
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new StateValueError(this.file, partition, namespace, key, (error as Error).message);
    }
  }
}
