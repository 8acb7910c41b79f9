/**
 * The stdio tap: sits between an MCP host and the server it spawns. Bytes are forwarded first, as
 * they arrive, by stream pipes on this thread; each chunk is then copied into a shared ring that the
 * observer worker reads.
 * Nothing about telemetry (parsing, redaction, a locked or full database) can delay or alter traffic.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { ChunkRing } from './chunkRing.js';
import type { FromObserver, ObserverConfig, ObserverSummary, ToObserver } from './observerProtocol.js';

export interface StdioTapOptions {
  command: string;
  args: string[];
  /** The server's configured name (the key in the host's config). */
  name?: string;
  home?: string;
  /** tapwire.yaml selecting the bus (--config). */
  configFile?: string;
  /** Lines longer than this are recorded as unparsed excerpts (the SDK itself rejects lines over 10 MB). */
  maxFrameBytes?: number;
  /** Size of the ring of chunks copied for the observer; when it is full, observation (never traffic) skips. */
  ringBytes?: number;
  /** How long the tap waits, after the server exits, for its events to reach the bus. */
  flushTimeoutMs?: number;
  /** Events held while the bus cannot be written. */
  maxQueuedEvents?: number;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

const now = (): number => performance.timeOrigin + performance.now();

/** Runs the server behind the tap until it exits; resolves with the exit code the tap should return. */
export async function runStdioTap(options: StdioTapOptions): Promise<number> {
  const ring = ChunkRing.create(options.ringBytes ?? 8 * 1024 * 1024);
  const config: ObserverConfig = {
    ...(options.home ? { home: options.home } : {}),
    ...(options.configFile ? { configFile: options.configFile } : {}),
    ...(options.name ? { name: options.name } : {}),
    sessionId: randomUUID(),
    command: options.command,
    args: options.args,
    maxFrameBytes: options.maxFrameBytes ?? 16 * 1024 * 1024,
    flushTimeoutMs: options.flushTimeoutMs ?? 3000,
    maxQueuedEvents: options.maxQueuedEvents ?? 10_000,
    parentPid: process.ppid,
    ring: ring.buffer,
  };
  // Heap limits keep the observer's memory close to what it holds (V8 otherwise grows lazily). If it
  // ever exceeded them, the worker would die and traffic would go on unobserved, reported as such.
  const observer = new Worker(new URL('./stdioObserver.js', import.meta.url), {
    workerData: config,
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 },
  });
  let observerAlive = true;
  let unobservedTotal = 0;
  const forwarded: [number, number] = [0, 0];
  const summary = new Promise<ObserverSummary | undefined>((resolve) => {
    observer.on('message', (message: FromObserver) => resolve(message.summary));
    observer.on('error', (error) => {
      observerAlive = false;
      process.stderr.write(`tapwire tap: observer failed (${error.message}); traffic continues unobserved\n`);
      resolve(undefined);
    });
    observer.on('exit', () => {
      observerAlive = false;
      resolve(undefined);
    });
  });

  const post = (message: ToObserver): void => {
    if (observerAlive) observer.postMessage(message);
  };

  const observe = (dir: 0 | 1, chunk: Buffer): void => {
    forwarded[dir] += chunk.length;
    if (!observerAlive || !ring.write(dir, now(), chunk)) unobservedTotal += chunk.length;
  };

  const child = spawn(options.command, options.args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let spawnError: Error | undefined;

  // Forwarding is wired before observation, so each chunk is written onward before it is copied.
  process.stdin.pipe(child.stdin);
  child.stdout.pipe(process.stdout, { end: false });
  process.stdin.on('data', (chunk: Buffer) => observe(0, chunk));
  child.stdout.on('data', (chunk: Buffer) => observe(1, chunk));
  // A peer that went away is not the tap's failure: the server's exit decides how the tap ends.
  child.stdin.on('error', () => undefined);
  process.stdout.on('error', () => undefined);

  const forward = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);

  child.on('spawn', () => post({ type: 'start', t: now(), pid: child.pid }));

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (error) => {
      spawnError = error;
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
  process.stdin.unpipe(child.stdin);
  process.stdin.pause();

  const exitCode = spawnError ? 127 : exit.code ?? 128 + (exit.signal ? constants.signals[exit.signal] : 0);
  post({
    type: 'end',
    t: now(),
    exitCode: exit.code,
    signal: exit.signal,
    ...(spawnError ? { error: `could not start: ${spawnError.message}` } : {}),
    forwarded,
    unobserved: unobservedTotal,
    lostAtEnd: [ring.pendingLoss(0), ring.pendingLoss(1)],
  });
  if (spawnError) process.stderr.write(`tapwire tap: cannot start '${options.command}': ${spawnError.message}\n`);

  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  const result = await Promise.race([summary, delay(config.flushTimeoutMs + 2000)]);
  if (!result) process.stderr.write('tapwire tap: the observer did not finish in time; events of this session may be missing\n');
  else if (result.dropped > 0) {
    process.stderr.write(`tapwire tap: ${result.dropped} of ${result.events} events could not be stored${result.lastError ? ` (${result.lastError})` : ''}\n`);
  }
  if (unobservedTotal > 0) {
    process.stderr.write(`tapwire tap: ${unobservedTotal} bytes were forwarded without being observed (observer fell behind)\n`);
  }
  await observer.terminate();
  return exitCode;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
