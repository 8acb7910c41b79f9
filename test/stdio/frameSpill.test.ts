import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameSpill, readRecords } from '../../collectors/stdio/handoffFile.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-spill-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const chunk = (i: number, size: number): Buffer => Buffer.from(`${i}:`.padEnd(size, String.fromCharCode(97 + (i % 26))));

describe('FrameSpill', () => {
  it('keeps chunks appended faster than the disk takes them, in order and byte for byte, up to its queue bound', async () => {
    const dir = tempDir();
    // 64 KiB may wait for the disk: sixteen 4 KiB chunks appended in one turn of the event loop fit, the rest do not.
    const spill = new FrameSpill(() => dir, 'session.spill', 1024 * 1024, 64 * 1024);
    const accepted: Buffer[] = [];
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const bytes = chunk(i, 4096);
      if (spill.append({ dir: (i % 2) as 0 | 1, timestampMs: 1000 + i, lostBefore: 0, bytes })) accepted.push(bytes);
      else refused++;
    }
    expect(accepted).toHaveLength(16);
    expect(refused).toBe(24);
    // Once the queue was written, there is room again.
    await spill.settled();
    const later = chunk(99, 4096);
    expect(spill.append({ dir: 1, timestampMs: 2000, lostBefore: 24 * 4096, bytes: later })).toBe(true);
    await spill.settled();
    expect(spill.close()).toBe(true);
    expect(spill.lostBytes).toBe(0);

    const records = [...readRecords(readFileSync(join(dir, 'session.spill')))];
    expect(records.map((r) => r.bytes.toString())).toEqual([...accepted, later].map((b) => b.toString()));
    expect(records.map((r) => r.timestampMs)).toEqual([...Array.from({ length: 16 }, (_, i) => 1000 + i), 2000]);
    expect(records.at(-1)!.lostBefore).toBe(24 * 4096);
  });

  it('refuses every chunk, without throwing, when its directory cannot be made', () => {
    const dir = tempDir();
    // A regular file where the directory should be: mkdir fails even for root.
    writeFileSync(join(dir, 'handoff'), '');
    const spill = new FrameSpill(() => join(dir, 'handoff', 'sub'), 'session.spill', 1024 * 1024);
    expect(spill.append({ dir: 0, timestampMs: 1, lostBefore: 0, bytes: chunk(0, 100) })).toBe(false);
    // Later chunks are refused too (the stream's order cannot be kept across a gap the file does not record).
    expect(spill.active).toBe(true);
    expect(spill.append({ dir: 0, timestampMs: 2, lostBefore: 0, bytes: chunk(1, 100) })).toBe(false);
    expect(spill.close()).toBe(false);
  });
});
