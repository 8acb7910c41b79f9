/**
 * The collectors' on-disk spool: events that could not reach the bus wait here, in order, until it is back. One SQLite
 * file is shared by every tap and proxy of the machine, because a tap often exits before the bus returns: whichever
 * collector next finds the bus reachable drains what the others left. One drainer at a time holds a lease (so records
 * go out once and in order); a drainer that dies loses the lease when it expires.
 *
 * The spool is bounded by `maxBytes` of record payload: past it the oldest records are dropped, and every drop is
 * counted in the file so the collector that dropped them reports it.
 */
import type { Transaction } from 'better-sqlite3';
import type { OutgoingRecord } from '../../pipeline/bus.js';
import { openSqliteDatabase, type SqliteDatabase, type SqliteStatement } from '../../pipeline/embedded/sqliteDatabase.js';

const SPOOL_SCHEMA = {
  applicationId: 0x54_57_53_31, // "TWS1"
  role: 'spool',
  migrations: [
    `CREATE TABLE spooled (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       topic TEXT NOT NULL,
       key TEXT NOT NULL,
       value TEXT NOT NULL,
       bytes INTEGER NOT NULL
     );
     CREATE TABLE totals (id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL, dropped INTEGER NOT NULL);
     INSERT INTO totals VALUES (1, 0, 0);
     CREATE TABLE drain_lease (id INTEGER PRIMARY KEY CHECK (id = 1), owner TEXT, expires INTEGER NOT NULL);
     INSERT INTO drain_lease VALUES (1, NULL, 0);`,
  ],
} as const;

/** A record waiting in the spool; `seq` orders the spool. */
export interface SpooledRecord extends OutgoingRecord {
  seq: number;
  topic: string;
}

/** What the spool holds now, and how many records it has ever dropped. */
export interface SpoolDepth {
  records: number;
  bytes: number;
  dropped: number;
}

/** A bounded, ordered, multi-process spool in one SQLite file. */
export class DiskSpool {
  private readonly db: SqliteDatabase;
  private readonly statements: Record<'insert' | 'addBytes' | 'totals' | 'count' | 'oldest' | 'remove' | 'removedBytes' | 'takeLease' | 'releaseLease', SqliteStatement>;
  private readonly appendAll: Transaction<(topic: string, records: readonly OutgoingRecord[]) => number>;
  private readonly removeThrough: Transaction<(seq: number) => void>;

  /** Opens (creating if needed) the spool file; `maxBytes` bounds the payload it keeps. */
  constructor(
    readonly file: string,
    private readonly maxBytes: number,
  ) {
    this.db = openSqliteDatabase(file, SPOOL_SCHEMA, { busyTimeoutMs: 2000 });
    this.statements = {
      insert: this.db.prepare('INSERT INTO spooled (topic, key, value, bytes) VALUES (?, ?, ?, ?)'),
      addBytes: this.db.prepare('UPDATE totals SET bytes = bytes + ?, dropped = dropped + ? WHERE id = 1'),
      totals: this.db.prepare('SELECT bytes, dropped FROM totals WHERE id = 1'),
      count: this.db.prepare('SELECT count(*) FROM spooled').pluck(),
      oldest: this.db.prepare('SELECT seq, topic, key, value FROM spooled ORDER BY seq LIMIT ?'),
      remove: this.db.prepare('DELETE FROM spooled WHERE seq <= ?'),
      removedBytes: this.db.prepare('SELECT coalesce(sum(bytes), 0) FROM spooled WHERE seq <= ?').pluck(),
      takeLease: this.db.prepare('UPDATE drain_lease SET owner = @owner, expires = @expires WHERE id = 1 AND (owner IS NULL OR owner = @owner OR expires < @now)'),
      releaseLease: this.db.prepare('UPDATE drain_lease SET owner = NULL, expires = 0 WHERE id = 1 AND owner = ?'),
    };
    const oldestForDrop = this.db.prepare('SELECT seq, bytes FROM spooled ORDER BY seq LIMIT 1000');
    this.appendAll = this.db.transaction((topic: string, records: readonly OutgoingRecord[]): number => {
      let added = 0;
      for (const record of records) {
        const bytes = Buffer.byteLength(record.key) + Buffer.byteLength(record.value);
        this.statements.insert.run(topic, record.key, record.value, bytes);
        added += bytes;
      }
      this.statements.addBytes.run(added, 0);
      let { bytes } = this.statements.totals.get() as { bytes: number };
      let dropped = 0;
      // Oldest first, until the payload fits again.
      while (bytes > this.maxBytes) {
        const rows = oldestForDrop.all() as { seq: number; bytes: number }[];
        if (rows.length === 0) break;
        let through = -1;
        let freed = 0;
        let count = 0;
        for (const row of rows) {
          if (bytes - freed <= this.maxBytes) break;
          freed += row.bytes;
          through = row.seq;
          count += 1;
        }
        this.statements.remove.run(through);
        this.statements.addBytes.run(-freed, count);
        bytes -= freed;
        dropped += count;
      }
      return dropped;
    });
    this.removeThrough = this.db.transaction((seq: number) => {
      const bytes = this.statements.removedBytes.get(seq) as number;
      this.statements.remove.run(seq);
      this.statements.addBytes.run(-bytes, 0);
    });
  }

  /** Appends records in order; returns how many of the oldest records were dropped to stay within the limit. */
  append(topic: string, records: readonly OutgoingRecord[]): number {
    return records.length === 0 ? 0 : this.appendAll.immediate(topic, records);
  }

  /** Whether anything waits in the spool. */
  hasRecords(): boolean {
    return (this.statements.count.get() as number) > 0;
  }

  /** Records and payload bytes held now, and every drop so far. */
  depth(): SpoolDepth {
    const totals = this.statements.totals.get() as { bytes: number; dropped: number };
    return { records: this.statements.count.get() as number, bytes: totals.bytes, dropped: totals.dropped };
  }

  /**
   * Takes (or renews) the drain lease for `owner` and returns up to `max` of the oldest records; undefined when
   * another live drainer holds the lease.
   */
  claim(owner: string, max: number, leaseMs: number): SpooledRecord[] | undefined {
    const now = Date.now();
    if (this.statements.takeLease.run({ owner, expires: now + leaseMs, now }).changes === 0) return undefined;
    return this.statements.oldest.all(max) as SpooledRecord[];
  }

  /** Removes the records up to and including `seq` (delivered). */
  remove(seq: number): void {
    this.removeThrough.immediate(seq);
  }

  /** Gives the drain lease back, so another collector may drain at once. */
  release(owner: string): void {
    this.statements.releaseLease.run(owner);
  }

  /** Closes the file; what it holds stays for the next collector. */
  close(): void {
    this.db.close();
  }
}
