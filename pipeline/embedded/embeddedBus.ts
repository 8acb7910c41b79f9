/**
 * The embedded bus: an append-only log of records in one SQLite file, shared by every process on the machine (taps
 * append, detector workers and the store sync consume). Each process opens its own connection.
 *
 * Why a consumer never skips a record: offsets come from an AUTOINCREMENT rowid assigned inside a BEGIN IMMEDIATE
 * transaction. SQLite lets one connection at a time hold the write lock, and IMMEDIATE takes it before the first insert,
 * so appends run one after another: a transaction that commits later also started writing after every earlier one had
 * committed, and so was handed higher offsets. Offsets therefore grow in commit order, and once a reader sees offset N,
 * no record with a lower offset can appear afterwards (a WAL reader's snapshot always holds a prefix of the offsets).
 * AUTOINCREMENT, rather than a plain rowid, keeps prune() from freeing offsets that a new record could then reuse.
 */
import type { Transaction } from 'better-sqlite3';
import type { BatchHandler, Bus, BusConsumer, ConsumedRecord, OutgoingRecord, SubscribeOptions, Subscription } from '../bus.js';
import { pollingSubscription } from '../pollingSubscription.js';
import { openSqliteDatabase, type OpenSqliteOptions, type SqliteDatabase, type SqliteStatement } from './sqliteDatabase.js';

const BUS_SCHEMA = {
  applicationId: 0x54_57_42_31, // "TWB1"
  role: 'bus',
  migrations: [
    `CREATE TABLE records (
       "offset" INTEGER PRIMARY KEY AUTOINCREMENT,
       topic TEXT NOT NULL,
       key TEXT NOT NULL,
       ts INTEGER NOT NULL,
       value TEXT NOT NULL
     );
     CREATE INDEX records_by_topic ON records (topic, "offset");
     CREATE TABLE committed_offsets (
       consumer_group TEXT NOT NULL,
       topic TEXT NOT NULL,
       "offset" INTEGER NOT NULL,
       PRIMARY KEY (consumer_group, topic)
     ) WITHOUT ROWID;`,
  ],
} as const;

/** What `tapwire status` shows of the bus: each topic's size and each consumer group's lag. */
export interface BusDescription {
  topics: { topic: string; records: number; lastOffset: number }[];
  groups: { group: string; topic: string; committed: number; lag: number }[];
}

/** The SQLite statements the bus and its consumers share, prepared once per connection. */
interface BusStatements {
  append: SqliteStatement;
  readAfter: SqliteStatement;
  committed: SqliteStatement;
  commit: SqliteStatement;
  register: SqliteStatement;
  countAfter: SqliteStatement;
  prune: SqliteStatement;
}

/** The embedded Bus over one SQLite file (the `bus` path of the Tapwire home). */
export class EmbeddedBus implements Bus {
  private readonly db: SqliteDatabase;
  private readonly statements: BusStatements;
  private readonly appendBatch: Transaction<(topic: string, records: readonly OutgoingRecord[]) => number>;

  /** Opens (creating if needed) the bus file. */
  constructor(readonly file: string, options: OpenSqliteOptions = {}) {
    this.db = openSqliteDatabase(file, BUS_SCHEMA, options);
    this.statements = {
      append: this.db.prepare('INSERT INTO records (topic, key, ts, value) VALUES (?, ?, ?, ?)'),
      readAfter: this.db.prepare(
        // Rows already in the shape of a ConsumedRecord: the loops read a record per event, and copying each row into
        // a new object was a sizeable share of a poll.
        'SELECT "offset", key, value, ts AS timestamp FROM records WHERE topic = ? AND "offset" > ? ORDER BY "offset" LIMIT ?',
      ),
      committed: this.db
        .prepare('SELECT "offset" FROM committed_offsets WHERE consumer_group = ? AND topic = ?')
        .pluck(),
      commit: this.db.prepare(
        `INSERT INTO committed_offsets (consumer_group, topic, "offset") VALUES (?, ?, ?)
         ON CONFLICT (consumer_group, topic) DO UPDATE SET "offset" = excluded."offset"`,
      ),
      register: this.db.prepare(
        'INSERT OR IGNORE INTO committed_offsets (consumer_group, topic, "offset") VALUES (?, ?, -1)',
      ),
      countAfter: this.db.prepare('SELECT count(*) FROM records WHERE topic = ? AND "offset" > ?').pluck(),
      prune: this.db.prepare(
        `DELETE FROM records
         WHERE topic = @topic AND "offset" < @beforeOffset
           AND "offset" <= (SELECT min("offset") FROM committed_offsets WHERE topic = @topic)`,
      ),
    };
    const append = this.statements.append;
    this.appendBatch = this.db.transaction((topic: string, records: readonly OutgoingRecord[]): number => {
      const ts = Date.now();
      let last = -1;
      for (const record of records) last = Number(append.run(topic, record.key, ts, record.value).lastInsertRowid);
      return last;
    });
  }

  /**
   * Appends records in one transaction and returns the offset of the last one (-1 for none). Synchronous, for callers
   * that cannot await, such as the stdio tap's writer thread.
   */
  appendSync(topic: string, records: readonly OutgoingRecord[]): number {
    if (records.length === 0) return -1;
    return this.appendBatch.immediate(topic, records);
  }

  /** Appends records in one transaction; resolves once they are committed. */
  async publish(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    this.appendSync(topic, records);
  }

  /** Opens a consumer positioned after the group's committed offset; the group then holds back prune() on the topic. */
  async consumer(group: string, topic: string): Promise<BusConsumer> {
    this.statements.register.run(group, topic);
    return new EmbeddedBusConsumer(this.statements, group, topic, this.committedOffset(group, topic));
  }

  /** Joins `group` as its only member: batches from each topic's single partition, committed after the handler. */
  async subscribe(group: string, topics: readonly string[], handler: BatchHandler, options?: SubscribeOptions): Promise<Subscription> {
    return pollingSubscription(this, group, topics, handler, options);
  }

  /** Records in the topic after the group's committed offset. */
  async lag(group: string, topic: string): Promise<number> {
    return this.statements.countAfter.get(topic, this.committedOffset(group, topic)) as number;
  }

  /**
   * Deletes the topic's records below `beforeOffset` that every group consuming the topic has committed; returns how
   * many were deleted. A topic no group has opened keeps all its records.
   */
  prune(topic: string, beforeOffset: number): number {
    return this.statements.prune.run({ topic, beforeOffset }).changes;
  }

  /** Each topic's record count and last offset, and each consumer group's committed offset and lag. */
  describe(): BusDescription {
    const topics = this.db
      .prepare('SELECT topic, count(*) AS records, max("offset") AS lastOffset FROM records GROUP BY topic ORDER BY topic')
      .all() as BusDescription['topics'];
    const groups = (
      this.db.prepare('SELECT consumer_group AS "group", topic, "offset" AS committed FROM committed_offsets ORDER BY consumer_group, topic').all() as Omit<BusDescription['groups'][number], 'lag'>[]
    ).map((g) => ({ ...g, lag: this.statements.countAfter.get(g.topic, g.committed) as number }));
    return { topics, groups };
  }

  /**
   * The highest offset this log has ever assigned (0 for a new log). A position past it was taken in another log:
   * the bus file was deleted, replaced or truncated since.
   */
  logEnd(): number {
    return (this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'records'").pluck().get() as number | undefined) ?? 0;
  }

  /** Closes the connection; consumers opened from this bus stop working. */
  async close(): Promise<void> {
    this.db.close();
  }

  private committedOffset(group: string, topic: string): number {
    return (this.statements.committed.get(group, topic) as number | undefined) ?? -1;
  }
}

/** Reads one topic for one group; the position lives in memory until commit() makes it durable. */
class EmbeddedBusConsumer implements BusConsumer {
  /** Creates a consumer that will next read after `position`. */
  constructor(
    private readonly statements: BusStatements,
    private readonly group: string,
    private readonly topic: string,
    private position: number,
  ) {}

  /** The next records after the current position (at most `max`); advances the position. */
  async poll(max: number): Promise<ConsumedRecord[]> {
    const records = this.statements.readAfter.all(this.topic, this.position, max) as ConsumedRecord[];
    const last = records.at(-1);
    if (last) this.position = last.offset;
    return records;
  }

  /** Makes `offset` durable for the group. */
  async commit(offset: number): Promise<void> {
    this.statements.commit.run(this.group, this.topic, offset);
  }

  /** Moves the position so that the next poll starts after `offset` (-1: from the start). */
  seek(offset: number): void {
    this.position = offset;
  }

  /** Nothing to release: the connection belongs to the bus. */
  async close(): Promise<void> {}
}
