import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import { PositionConflictError, StateBatch } from '../../detectors/stateBatch.js';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';

describe('EmbeddedStateStore', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tapwire-state-'));
    file = join(dir, 'state.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps values by partition, namespace and key, across reopening', () => {
    const state = new EmbeddedStateStore(file);
    state.put('srv-b', 'pins', 'tool:b', { hash: 'b' });
    state.put('srv-a', 'pins', 'tool:z', { hash: 'z' });
    state.put('srv-a', 'pins', 'tool:a', { hash: 'a' });
    state.put('srv-a', 'other', 'x', 1);
    state.delete('srv-b', 'pins', 'tool:b');
    state.close();
    const reopened = new EmbeddedStateStore(file);
    expect(reopened.get('srv-a', 'pins', 'tool:a')).toEqual({ hash: 'a' });
    expect(reopened.get('srv-b', 'pins', 'tool:b')).toBeUndefined();
    expect(reopened.entries('srv-a', 'pins')).toEqual([['tool:a', { hash: 'a' }], ['tool:z', { hash: 'z' }]]);
    expect(reopened.partitions('pins')).toEqual(['srv-a']);
    expect(reopened.position('bus:mcp.events')).toBe(-1);
    reopened.close();
  });

  it('commits writes and the position together, and neither when the work throws', () => {
    const state = new EmbeddedStateStore(file);
    state.transaction(() => state.put('p', 'n', 'k', 1), { source: 'bus:t', offset: 41 });
    expect(() =>
      state.transaction(() => {
        state.put('p', 'n', 'k', 2);
        throw new Error('crash in the middle');
      }, { source: 'bus:t', offset: 99 }),
    ).toThrow('crash in the middle');
    expect(state.get('p', 'n', 'k')).toBe(1);
    expect(state.position('bus:t')).toBe(41);
    state.close();
  });

  it('reads from memory, yet sees at the next batch what another connection committed (tapwire approve)', () => {
    const worker = new EmbeddedStateStore(file);
    worker.transaction(() => worker.put('srv', 'decisions', 'tool', { decision: 'pending' }));
    expect(worker.get('srv', 'decisions', 'tool')).toEqual({ decision: 'pending' });
    expect(worker.get('srv', 'decisions', 'other')).toBeUndefined();
    const approve = new EmbeddedStateStore(file);
    approve.transaction(() => {
      approve.put('srv', 'decisions', 'tool', { decision: 'approved' });
      approve.put('srv', 'decisions', 'other', { decision: 'rejected' });
    });
    approve.close();
    worker.forgetUncommitted();
    expect(worker.get('srv', 'decisions', 'tool')).toEqual({ decision: 'approved' });
    expect(worker.get('srv', 'decisions', 'other')).toEqual({ decision: 'rejected' });
    worker.close();
  });

  it('forgets a value changed in place by a batch that never committed, and keeps what a batch committed', () => {
    const state = new EmbeddedStateStore(file);
    state.transaction(() => state.put('srv', 'profile', 'calls', { count: 1 }));
    // A detector's get, change in place, put.
    const batchSetting = (count: number): StateBatch => {
      const batch = new StateBatch(state);
      const profile = batch.get<{ count: number }>('srv', 'profile', 'calls') as { count: number };
      profile.count = count;
      batch.put('srv', 'profile', 'calls', profile);
      return batch;
    };
    batchSetting(99).discard();
    state.forgetUncommitted();
    expect(state.get('srv', 'profile', 'calls')).toEqual({ count: 1 });
    batchSetting(2).commit();
    state.forgetUncommitted();
    expect(state.get('srv', 'profile', 'calls')).toEqual({ count: 2 });
    state.close();
    const reopened = new EmbeddedStateStore(file);
    expect(reopened.get('srv', 'profile', 'calls')).toEqual({ count: 2 });
    reopened.close();
  });

  it('lists entries from memory as the file holds them: commits applied in key order, nothing uncommitted, others seen', () => {
    const state = new EmbeddedStateStore(file);
    state.transaction(() => {
      for (const key of ['000002', '000000', 'z\u{1F600}', 'z\uFB01']) state.put('host', 'window', key, { key });
    });
    const fileOrder = (): string[] => (new Database(file, { readonly: true }).prepare("SELECT key FROM state WHERE namespace = 'window' AND partition = 'host' ORDER BY key").pluck().all() as string[]);
    const keys = (): string[] => state.entries<{ key: string }>('host', 'window').map(([key]) => key);
    // SQLite orders by UTF-8 bytes: the emoji (U+1F600) after the ligature (U+FB01), unlike a UTF-16 comparison.
    expect(keys()).toEqual(fileOrder());
    expect(keys()).toEqual(['000000', '000002', 'z\uFB01', 'z\u{1F600}']);
    // The caller's array is its own: sorting it in place changes nothing for the next reader.
    state.entries('host', 'window').reverse();
    const batch = new StateBatch(state);
    batch.put('host', 'window', '000001', { key: '000001' });
    batch.delete('host', 'window', '000000');
    expect(batch.entries('host', 'window').map(([key]) => key)).toEqual(['000001', '000002', 'z\uFB01', 'z\u{1F600}']);
    // Until it commits, the store lists what the file holds.
    expect(keys()).toEqual(['000000', '000002', 'z\uFB01', 'z\u{1F600}']);
    batch.commit();
    expect(keys()).toEqual(fileOrder());
    expect(keys()).toEqual(['000001', '000002', 'z\uFB01', 'z\u{1F600}']);
    const other = new EmbeddedStateStore(file);
    other.transaction(() => other.put('host', 'window', '000003', { key: '000003' }));
    other.close();
    state.forgetUncommitted();
    expect(keys()).toEqual(['000001', '000002', '000003', 'z\uFB01', 'z\u{1F600}']);
    state.close();
  });

  it('names the file when it is not a state file, and the key when a value is damaged', () => {
    writeFileSync(file, 'not a database at all, just text that is long enough to be read as a header');
    expect(() => new EmbeddedStateStore(file)).toThrow(`${file}: not a SQLite database, so it cannot be the detector state file`);
    const busFile = join(dir, 'bus.sqlite');
    void new EmbeddedBus(busFile).close();
    expect(() => new EmbeddedStateStore(busFile)).toThrow(new RegExp(`^${busFile}: not a Tapwire detector state file`));
    const good = join(dir, 'good.sqlite');
    new EmbeddedStateStore(good).close();
    const raw = new Database(good);
    raw.prepare("INSERT INTO state VALUES ('drift.pins', 'stdio:x', 'tool:a', '{broken')").run();
    raw.close();
    const state = new EmbeddedStateStore(good);
    expect(() => state.get('stdio:x', 'drift.pins', 'tool:a')).toThrow(`${good}: detector state drift.pins/tool:a of partition 'stdio:x' is not valid JSON`);
    state.close();
  });
});

describe('StateBatch', () => {
  it('reads its own writes over the store and applies them in one commit with the position', () => {
    const state = new EmbeddedStateStore(':memory:');
    state.put('p1', 'n', 'a', 'stored-a');
    state.put('p1', 'n', 'b', 'stored-b');
    state.put('p2', 'n', 'c', 'stored-c');
    const batch = new StateBatch(state);
    batch.put('p1', 'n', 'a', 'batch-a');
    batch.delete('p1', 'n', 'b');
    batch.put('p1', 'n', '0', 'batch-0');
    batch.delete('p2', 'n', 'c');
    batch.put('p3', 'n', 'd', 'batch-d');
    expect(batch.get('p1', 'n', 'a')).toBe('batch-a');
    expect(batch.get('p1', 'n', 'b')).toBeUndefined();
    expect(batch.entries('p1', 'n')).toEqual([['0', 'batch-0'], ['a', 'batch-a']]);
    expect(batch.partitions('n')).toEqual(['p1', 'p3']);
    // Nothing reached the store yet.
    expect(state.get('p1', 'n', 'a')).toBe('stored-a');
    batch.commit({ source: 's', offset: 7 }, -1);
    expect(state.entries('p1', 'n')).toEqual([['0', 'batch-0'], ['a', 'batch-a']]);
    expect(state.partitions('n')).toEqual(['p1', 'p3']);
    expect(state.position('s')).toBe(7);
    expect(batch.dirty).toBe(false);
    state.close();
  });

  it('refuses to commit when another worker moved the position meanwhile', () => {
    const state = new EmbeddedStateStore(':memory:');
    const batch = new StateBatch(state);
    batch.put('p', 'n', 'k', 'mine');
    state.transaction(() => undefined, { source: 's', offset: 20 });
    expect(() => batch.commit({ source: 's', offset: 10 }, -1)).toThrow(PositionConflictError);
    expect(state.get('p', 'n', 'k')).toBeUndefined();
    expect(state.position('s')).toBe(20);
    state.close();
  });
});
