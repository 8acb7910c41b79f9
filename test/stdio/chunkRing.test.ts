import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ChunkRing, type RingChunk } from '../../collectors/stdio/chunkRing.js';
import { REPO_ROOT, requireBuiltCli } from '../support/tapwireCli.js';

/** A compiled module for a worker thread (which vitest does not transpile for), from a dist/ no older than the sources. */
const builtModule = (path: string): string => {
  requireBuiltCli();
  return pathToFileURL(join(REPO_ROOT, 'dist', path)).href;
};

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
      expect(producer.write((i % 2) as 0 | 1, i, Buffer.from(text))).toBe(text.length);
      if (i % 7 === 0) consumer.read((c) => seen.push(`${c.dir}:${c.timestampMs}:${c.bytes.toString()}`));
    }
    consumer.read((c) => seen.push(`${c.dir}:${c.timestampMs}:${c.bytes.toString()}`));
    expect(seen).toHaveLength(5000);
    expect(seen[4999]).toBe(`1:4999:chunk-4999-${'x'.repeat(4999 % 977)}`);
    expect(seen.every((s, i) => s.startsWith(`${i % 2}:${i}:chunk-${i}-`))).toBe(true);
  });

  it('takes only what fits when full, never overwrites, and says how much it took', () => {
    const ring = ChunkRing.create(65536);
    const big = Buffer.alloc(16000, 'a');
    let accepted = 0;
    while (ring.write(1, 0, big) === big.length) accepted++;
    expect(accepted).toBe(4);
    // 1,472 bytes remain (64 KiB less four 16,016-byte records): a 2,000-byte chunk does not fit, a small one still does.
    expect(ring.write(1, 1, Buffer.alloc(2000))).toBe(0);
    expect(drain(ring)).toHaveLength(4);
    expect(ring.write(1, 2, Buffer.from('after'))).toBe(5);
    expect(drain(ring)).toEqual([{ dir: 1, timestampMs: 2, text: 'after', end: expect.any(Number) }]);
  });

  it('retains records a retaining consumer has read until it releases them, and hands the rest off with its checkpoint', () => {
    const producer = ChunkRing.create(65536, 1024);
    const consumer = ChunkRing.attach(producer.buffer, { retain: true });
    expect(producer.handOff().point).toEqual({ releases: 0, checkpoint: undefined });
    for (let i = 0; i < 3; i++) producer.write((i % 2) as 0 | 1, i, Buffer.from(`line ${i}\n`));
    const ends: number[] = [];
    expect(consumer.read((c) => ends.push(c.end))).toBe(3);
    // Read but unreleased: still the producer's to hand off, and still taking room.
    consumer.release(ends[0]!, Buffer.from('{"at":"line 0"}'));
    expect(() => consumer.release(ends[0]!, Buffer.alloc(1025))).toThrow(RangeError);
    const { point, held } = producer.handOff();
    expect(point).toEqual({ releases: 1, checkpoint: Buffer.from('{"at":"line 0"}') });
    expect(held.map((c) => [c.dir, c.bytes.toString()])).toEqual([[1, 'line 1\n'], [0, 'line 2\n']]);
    expect(producer.writtenBytes(0)).toBe(14);
  });

  describe('stop handshake', () => {
    it('ends as acknowledged when the consumer acknowledges; the consumer then publishes nothing more', () => {
      const producer = ChunkRing.create(65536);
      const consumer = ChunkRing.attach(producer.buffer, { retain: true });
      expect(consumer.stopRequested()).toBe(false);
      producer.requestStop();
      expect(consumer.stopRequested()).toBe(true);
      expect(consumer.acknowledgeStop()).toBe(true);
      expect(producer.awaitStop(0, 0)).toBe('acknowledged');
      expect(consumer.stopped()).toBe(true);
      expect(consumer.beginPublish()).toBe(false);
    });

    it('is taken over from an idle consumer that does not answer, which can then neither publish nor acknowledge', () => {
      const producer = ChunkRing.create(65536);
      const consumer = ChunkRing.attach(producer.buffer, { retain: true });
      expect(consumer.beginPublish()).toBe(true);
      consumer.endPublish();
      producer.requestStop();
      expect(producer.awaitStop(0, 0)).toBe('taken');
      expect(consumer.beginPublish()).toBe(false);
      expect(consumer.acknowledgeStop()).toBe(false);
      expect(consumer.stopped()).toBe(true);
    });

    it('says so when it must take over while a publish is in flight, and the publish ending does not undo it', () => {
      const producer = ChunkRing.create(65536);
      const consumer = ChunkRing.attach(producer.buffer, { retain: true });
      expect(consumer.beginPublish()).toBe(true);
      producer.requestStop();
      expect(producer.awaitStop(0, 0)).toBe('taken-during-publish');
      consumer.endPublish();
      expect(consumer.stopped()).toBe(true);
      expect(consumer.beginPublish()).toBe(false);
    });

    // A real second thread: the producer blocks in awaitStop while the consumer is mid-publish, and is released
    // by the consumer's acknowledgement after that publish, however long the consumer takes (no deadline reached).
    it('waits out a publish in flight in another thread and gets the acknowledgement that follows it', async () => {
      const producer = ChunkRing.create(65536, 64);
      const gate = new Int32Array(new SharedArrayBuffer(4));
      const consumer = new Worker(
        `const { workerData, parentPort } = require('node:worker_threads');
         import(workerData.module).then(({ ChunkRing }) => {
           const ring = ChunkRing.attach(workerData.ring, { retain: true });
           if (!ring.beginPublish()) throw new Error('could not begin');
           parentPort.postMessage('publishing');
           Atomics.wait(workerData.gate, 0, 0);
           ring.release(0, Buffer.from('published'));
           ring.endPublish();
           while (!ring.stopRequested()) Atomics.wait(workerData.gate, 0, 1, 5);
           parentPort.postMessage(ring.acknowledgeStop() ? 'acknowledged' : 'refused');
         });`,
        { eval: true, workerData: { module: builtModule('collectors/stdio/chunkRing.js'), ring: producer.buffer, gate } },
      );
      const said: string[] = [];
      let heard: () => void = () => undefined;
      consumer.on('message', (m: string) => {
        said.push(m);
        heard();
      });
      const spoke = (n: number) => new Promise<void>((resolve) => (heard = () => said.length >= n && resolve()) && heard());
      await spoke(1);
      producer.requestStop();
      // Lets the publish finish only once the producer is (about to be) blocked in awaitStop.
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      // The bound only turns a consumer that died into a failure instead of a hang.
      expect(producer.awaitStop(60_000, 0)).toBe('acknowledged');
      expect(producer.handOff().point.checkpoint?.toString()).toBe('published');
      await spoke(2);
      expect(said).toEqual(['publishing', 'acknowledged']);
      await consumer.terminate();
    });
  });

  it('splits a chunk larger than a quarter of the ring into pieces', () => {
    const ring = ChunkRing.create(65536);
    const payload = Buffer.from(Array.from({ length: 40000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
    expect(ring.write(0, 5, payload)).toBe(payload.length);
    const pieces = drain(ring);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.map((p) => p.text).join('')).toBe(payload.toString());
  });

  // The sleeper registers its wait before the producer writes (Atomics.waitAsync in this thread), so
  // nothing depends on how fast another thread starts: a wake-up either happens or the wait times out.
  it('lets a sleeping consumer sleep through small writes, and wakes it once the ring is half full', async () => {
    const ring = ChunkRing.create(65536);
    const header = new Int32Array(ring.buffer, 0, 16);
    const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } }).waitAsync;
    const sleep = (timeoutMs: number): Promise<string> => {
      // As ChunkRing.waitForData does: flag the sleep, then wait for HEAD to move.
      Atomics.store(header, 2, 1);
      const waited = waitAsync(header, 0, Atomics.load(header, 0), timeoutMs);
      return Promise.resolve(waited.value);
    };

    const light = sleep(200);
    ring.write(0, 0, Buffer.from('a small chunk'));
    expect(await light).toBe('timed-out');

    const heavy = sleep(600_000);
    // 3 × 16 KB crosses half of the 64 KiB ring.
    for (let t = 1; t <= 3; t++) ring.write(0, t, Buffer.alloc(16000));
    expect(await heavy).toBe('ok');
  });
});
