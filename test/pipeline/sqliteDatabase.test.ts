import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { EmbeddedStore } from '../../pipeline/embedded/embeddedStore.js';
import { DatabaseFileError, openSqliteDatabase, type SqliteSchema } from '../../pipeline/embedded/sqliteDatabase.js';
import { compiledModule } from './compiledModule.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tapwire-sqlite-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const notes = (migrations: string[]): SqliteSchema => ({ applicationId: 0x7e57, role: 'notes', migrations });
const CREATE_NOTES = 'CREATE TABLE notes (text TEXT NOT NULL)';
const ADD_AUTHOR = 'ALTER TABLE notes ADD COLUMN author TEXT';

describe('openSqliteDatabase', () => {
  it('opens in WAL mode with synchronous=NORMAL and the requested busy timeout', () => {
    const db = openSqliteDatabase(join(dir, 'a.sqlite'), notes([CREATE_NOTES]), { busyTimeoutMs: 1234 });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    } finally {
      db.close();
    }
    const defaults = openSqliteDatabase(join(dir, 'a.sqlite'), notes([CREATE_NOTES]));
    expect(defaults.pragma('busy_timeout', { simple: true })).toBe(5000);
    defaults.close();
  });

  it('applies each migration once, keeping the data written under earlier versions', () => {
    const file = join(dir, 'notes.sqlite');
    const v1 = openSqliteDatabase(file, notes([CREATE_NOTES]));
    v1.prepare('INSERT INTO notes (text) VALUES (?)').run('kept');
    v1.close();

    const v2 = openSqliteDatabase(file, notes([CREATE_NOTES, ADD_AUTHOR]));
    expect(v2.pragma('user_version', { simple: true })).toBe(2);
    expect(v2.prepare('SELECT text, author FROM notes').all()).toEqual([{ text: 'kept', author: null }]);
    v2.close();
    // A second run of ALTER TABLE ... ADD COLUMN would fail with "duplicate column name".
    openSqliteDatabase(file, notes([CREATE_NOTES, ADD_AUTHOR])).close();
  });

  it('refuses a file written by a newer schema, naming the file and both versions', () => {
    const file = join(dir, 'notes.sqlite');
    openSqliteDatabase(file, notes([CREATE_NOTES, ADD_AUTHOR])).close();
    expect(() => openSqliteDatabase(file, notes([CREATE_NOTES]))).toThrow(
      `${file}: notes schema version 2 is newer than this Tapwire supports (1); upgrade Tapwire`,
    );
  });

  it("refuses another application's SQLite database instead of adding tables to it", () => {
    const file = join(dir, 'foreign.sqlite');
    const foreign = new Database(file);
    foreign.exec('CREATE TABLE photos (id INTEGER)');
    foreign.close();
    expect(() => new EmbeddedStore(file)).toThrow(`${file}: a SQLite database of another application`);
    const check = new Database(file);
    expect(check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all()).toEqual(['photos']);
    check.close();
  });
});

describe('bus and store files that cannot be used', () => {
  it('names a file that is not a SQLite database', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
    expect(() => new EmbeddedBus(file)).toThrow(new DatabaseFileError(file, 'not a SQLite database, so it cannot be the bus file'));
    expect(readFileSync(file, 'utf8')).toBe('these are my notes, not a database\n'.repeat(200));
  });

  it('names a corrupt store file', async () => {
    const file = join(dir, 'store.sqlite');
    await new EmbeddedStore(file).close();
    const bytes = readFileSync(file);
    for (let i = 100; i < bytes.length; i += 1) bytes[i] = (i * 7) & 0xff;
    writeFileSync(file, bytes);
    expect(() => new EmbeddedStore(file)).toThrow(`${file}: the store database is corrupt`);
  });

  it('tells a store file from a bus file', async () => {
    const file = join(dir, 'store.sqlite');
    await new EmbeddedStore(file).close();
    expect(() => new EmbeddedBus(file)).toThrow(`${file}: not a Tapwire bus file`);
  });

  it('names a read-only file', async () => {
    const file = join(dir, 'bus.sqlite');
    await new EmbeddedBus(file).close();
    const message = openAsUnprivileged(file);
    expect(message).toBe(`${file}: the bus file is read-only; Tapwire needs to write to it`);
  });
});

/**
 * Opens the bus file without write permission and returns the error message. Root may write to any file, so as root the
 * attempt runs in a child process as the unprivileged user "nobody", on a copy that user may read but not write.
 */
function openAsUnprivileged(file: string): string {
  if (process.getuid?.() !== 0) {
    chmodSync(file, 0o444);
    try {
      void new EmbeddedBus(file);
      return 'opened';
    } catch (error) {
      return (error as Error).message;
    }
  }
  const shared = mkdtempSync(join(tmpdir(), 'tapwire-sqlite-ro-'));
  try {
    chmodSync(shared, 0o755);
    const copy = join(shared, 'bus.sqlite');
    copyFileSync(file, copy);
    chmodSync(copy, 0o644);
    const script = `import { EmbeddedBus } from ${JSON.stringify(compiledModule('pipeline/embedded/embeddedBus.ts'))};
      try { new EmbeddedBus(${JSON.stringify(copy)}); console.log('opened'); } catch (error) { console.log(error.message); }`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
    return child.stdout.trim().replace(copy, file);
  } finally {
    rmSync(shared, { recursive: true, force: true });
  }
}
