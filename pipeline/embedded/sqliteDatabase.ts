/**
 * Opens the SQLite files of the embedded pipeline (bus and store) the same way: WAL, a busy timeout, synchronous=NORMAL,
 * and a schema migration keyed on PRAGMA user_version. Failures name the file and say what is wrong with it.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;
export type SqliteStatement = Database.Statement<unknown[], unknown>;

export interface SqliteSchema {
  /** Stored in PRAGMA application_id, so a bus file opened as a store (or the reverse) is refused. */
  applicationId: number;
  /** What the file holds, for error messages ("bus", "store"). */
  role: string;
  /** migrations[i] takes the schema from version i to i + 1; the file ends at version migrations.length. */
  migrations: readonly string[];
  /** Page size of a new file (SQLite's default, 4096, without it); a file that exists keeps the size it was made with. */
  pageSize?: number;
}

export interface OpenSqliteOptions {
  /** How long a connection waits for another process's write lock before failing (ms). */
  busyTimeoutMs?: number;
}

/** Raised when a database file cannot be used; the message names the file and the reason. */
export class DatabaseFileError extends Error {
  /** Creates the error for `file`. */
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
    this.name = 'DatabaseFileError';
  }
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** Opens (creating if needed) a WAL SQLite file and brings its schema up to date. */
export function openSqliteDatabase(file: string, schema: SqliteSchema, options: OpenSqliteOptions = {}): SqliteDatabase {
  // better-sqlite3 and SQLite itself silently open an unwritable file read-only and only fail at the first write, with a
  // message that names no file; checking first gives the user the actual reason.
  if (existsSync(file) && !isWritable(file)) {
    throw new DatabaseFileError(file, `the ${schema.role} file is read-only; Tapwire needs to write to it`);
  }
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(file, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    // Takes effect only before the file's first write (switching to WAL is one): an existing file is left as it is.
    if (schema.pageSize !== undefined) db.pragma(`page_size = ${schema.pageSize}`);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode keeps every commit safe from a process crash; only a power loss can drop the newest commits.
    db.pragma('synchronous = NORMAL');
    migrate(db, file, schema);
    return db;
  } catch (error) {
    db?.close();
    throw explain(file, schema.role, error);
  }
}

function isWritable(file: string): boolean {
  try {
    accessSync(file, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function migrate(db: SqliteDatabase, file: string, schema: SqliteSchema): void {
  const target = schema.migrations.length;
  // IMMEDIATE takes the write lock before reading the version, so two processes opening a new file at once cannot both
  // run the same migration.
  db.transaction(() => {
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (applicationId !== 0 && applicationId !== schema.applicationId) {
      throw new DatabaseFileError(
        file,
        `not a Tapwire ${schema.role} file (its application_id is 0x${applicationId.toString(16)}, a ${schema.role} has 0x${schema.applicationId.toString(16)})`,
      );
    }
    if (applicationId === 0 && version === 0 && hasTables(db)) {
      throw new DatabaseFileError(file, `a SQLite database of another application, not a Tapwire ${schema.role} file`);
    }
    if (version > target) {
      throw new DatabaseFileError(
        file,
        `${schema.role} schema version ${version} is newer than this Tapwire supports (${target}); upgrade Tapwire`,
      );
    }
    for (let next = version; next < target; next += 1) db.exec(schema.migrations[next] as string);
    if (version !== target) db.pragma(`user_version = ${target}`);
    if (applicationId === 0) db.pragma(`application_id = ${schema.applicationId}`);
  }).immediate();
}

function hasTables(db: SqliteDatabase): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' LIMIT 1").get() !== undefined;
}

function explain(file: string, role: string, error: unknown): Error {
  if (error instanceof DatabaseFileError) return error;
  const code = (error as { code?: unknown }).code;
  const detail = (error as Error).message;
  const reason = (): string => {
    if (code === 'SQLITE_NOTADB') return `not a SQLite database, so it cannot be the ${role} file`;
    if (code === 'SQLITE_CORRUPT') return `the ${role} database is corrupt (${detail})`;
    if (typeof code === 'string' && code.startsWith('SQLITE_READONLY')) {
      return `the ${role} file is read-only; Tapwire needs to write to it (${detail})`;
    }
    return `cannot open the ${role} database: ${detail}`;
  };
  return new DatabaseFileError(file, reason(), { cause: error });
}
