import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ChunkRing, type RingChunk } from '../../collectors/stdio/chunkRing.js';

const drain = (ring: ChunkRing): (Omit<RingChunk, 'bytes'> & { text: string })[] => {
  const out: (Omit<RingChunk, 'bytes'> & { text: string })[] = [];
  ring.read(({ bytes, ...rest }) => out.push({ ...rest, text: bytes.toString() }));
  return out;
};

describe('ChunkRing', () => {
  it('hands chunks over in order, across many wrap-arounds', () => {
    const producer = ChunkRing.create(65536);
    const consumer = ChunkRing.attach(producer.buffer);
    const seen: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const text = `chunk-${i}-${'x'.repeat(i % 977)}`;
      expect(producer.write((i % 2) as 0 | 1, i, Buffer.from(text))).toBe(true);
      if (i % 7 === 0) consumer.read((c) => seen.push(`${c.dir}:${c.timestampMs}:${c.bytes.toString()}`));
    }
    consumer.read((c) => seen.push(`${c.dir}:${c.timestampMs}:${c.bytes.toString()}`));
    expect(seen).toHaveLength(5000);
    expect(seen[4999]).toBe(`1:4999:chunk-4999-${'x'.repeat(4999 % 977)}`);
    expect(seen.every((s, i) => s.startsWith(`${i % 2}:${i}:chunk-${i}-`))).toBe(true);
  });

  it('refuses a chunk when full, never overwrites, and reports the loss with the next chunk of that direction', () => {
    const ring = ChunkRing.create(65536);
    const big = Buffer.alloc(16000, 'a');
    let accepted = 0;
    while (ring.write(1, 0, big)) accepted++;
    expect(accepted).toBe(4);
    expect(ring.pendingLoss(1)).toBe(16000);
    // 1,440 bytes remain: a 2,000-byte chunk does not fit, a small one still does.
    expect(ring.write(1, 1, Buffer.alloc(2000))).toBe(false);
    expect(ring.pendingLoss(1)).toBe(18000);
    expect(ring.pendingLoss(0)).toBe(0);
    expect(drain(ring).map((c) => c.lostBefore)).toEqual([0, 0, 0, 0]);
    expect(ring.write(1, 2, Buffer.from('after'))).toBe(true);
    expect(drain(ring)).toEqual([{ dir: 1, timestampMs: 2, lostBefore: 18000, text: 'after' }]);
  });

  it('splits a chunk larger than a quarter of the ring into pieces', () => {
    const ring = ChunkRing.create(65536);
    const payload = Buffer.from(Array.from({ length: 40000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
    expect(ring.write(0, 5, payload)).toBe(true);
    const pieces = drain(ring);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.map((p) => p.text).join('')).toBe(payload.toString());
  });

  it('lets a sleeping consumer sleep through small writes, and wakes it once the ring is half full', async () => {
    const ring = ChunkRing.create(65536);
    const sleeper = (timeoutMs: number): Promise<string> => {
      const worker = new Worker(
        `const { workerData, parentPort } = require('node:worker_threads');
         const header = new Int32Array(workerData.buffer, 0, 16);
         // Sleep as ChunkRing.waitForData does, and report how the sleep ended.
         Atomics.store(header, 2, 1);
         parentPort.postMessage(Atomics.wait(header, 0, Atomics.load(header, 0), workerData.timeoutMs));`,
        { eval: true, workerData: { buffer: ring.buffer, timeoutMs } },
      );
      return new Promise<string>((resolve) => worker.once('message', resolve)).finally(() => worker.terminate());
    };
    const ready = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));

    const light = sleeper(1000);
    await ready();
    ring.write(0, 0, Buffer.from('a small chunk'));
    expect(await light).toBe('timed-out');

    const heavy = sleeper(20_000);
    await ready();
    // 3 × 16 KB crosses half of the 64 KiB ring.
    for (let t = 1; t <= 3; t++) ring.write(0, t, Buffer.alloc(16000));
    expect(await heavy).toBe('ok');
  });
});
