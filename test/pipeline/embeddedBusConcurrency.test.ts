import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../pipeline/bus.js';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { compiledModule } from './compiledModule.js';

const WRITERS = 4;
const PER_WRITER = 2000;
const TOPIC = 'mcp.events';
const appender = fileURLToPath(new URL('./busAppender.mjs', import.meta.url));

let dir: string;
let reader: EmbeddedBus | undefined;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tapwire-bus-concurrency-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await reader?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts one writer process and resolves once it has opened the bus and waits for the go signal. */
function startWriter(busModule: string, file: string, writer: string): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const child = spawn(process.execPath, [appender, busModule, file, TOPIC, writer, String(PER_WRITER)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${writer} exited with ${code}: ${stderr}`))));
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    exited.then(() => reject(new Error(`${writer} exited before it was ready: ${stderr}`)), reject);
  });
  return ready.then(() => ({ child, exited }));
}

it('keeps every record from concurrent writer processes exactly once, in per-key order, with no skipped offset', async () => {
  const busModule = compiledModule('pipeline/embedded/embeddedBus.ts');
  const file = join(dir, 'bus.sqlite');
  reader = new EmbeddedBus(file);
  const consumer = await reader.consumer('reader', TOPIC);

  const writers = await Promise.all(
    Array.from({ length: WRITERS }, (_, i) => startWriter(busModule, file, `writer-${i}`)),
  );
  for (const { child } of writers) child.stdin!.end('go\n');
  let finished = false;
  const allExited = Promise.all(writers.map((w) => w.exited)).finally(() => (finished = true));

  // Read while the writers append: a record committed later with a lower offset would be skipped here.
  const seenLive: ConsumedRecord[] = [];
  while (!finished) {
    seenLive.push(...(await consumer.poll(500)));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await allExited;
  seenLive.push(...(await consumer.poll(WRITERS * PER_WRITER)));

  const everything = await (await reader.consumer('audit', TOPIC)).poll(WRITERS * PER_WRITER + 1);
  expect(everything).toHaveLength(WRITERS * PER_WRITER);
  expect(seenLive.map((r) => r.offset)).toEqual(everything.map((r) => r.offset));
  expect(new Set(everything.map((r) => r.value)).size).toBe(WRITERS * PER_WRITER);
  for (let w = 0; w < WRITERS; w += 1) {
    const values = everything.filter((r) => r.key === `writer-${w}`).map((r) => r.value);
    expect(values).toEqual(Array.from({ length: PER_WRITER }, (_, n) => `writer-${w}:${n}`));
  }
  // The writers really ran at the same time: their records interleave in the log.
  const switches = everything.filter((r, i) => i > 0 && r.key !== everything[i - 1]!.key).length;
  expect(switches).toBeGreaterThan(WRITERS);
});
