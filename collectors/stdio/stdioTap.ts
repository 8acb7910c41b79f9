/**
 * The stdio tap: sits between an MCP host and the server it spawns. Bytes are forwarded first, as
 * they arrive, by stream pipes on this thread; each chunk is then copied into a shared ring that the
 * observer worker reads (or, when the observer is so far behind that the ring is full, appended to a
 * spill file).
 * Nothing about telemetry (parsing, redaction, a locked or full database) can delay or alter traffic.
 *
 * A tap never exits with frames it has not recorded: when its server is gone, it gives the observer a
 * short grace to finish, then hands whatever is still unrecorded to a file in the home (handoffFile.ts)
 * for the next tap or command to record. The host's shutdown grace (2 s in the MCP SDK) bounds the wait.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { currentHostSession } from '../hostSession.js';
import { ChunkRing } from './chunkRing.js';
import { collectorHomeRoot, FrameSpill, handoffDirectory, writeHandoff, type HandoffHeader } from './handoffFile.js';
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
  /** Size of the ring of chunks copied for the observer; when it is full, chunks go to a spill file. */
  ringBytes?: number;
  /** Bound of the spill file; past it, observation (never traffic) skips, and says so. */
  spillBytes?: number;
  /** How long the observer may take, after the server exits, to record the rest before the tap hands it off. */
  handoffAfterMs?: number;
  /** How long the observer waits for a failing bus when it closes. */
  flushTimeoutMs?: number;
  /** Events held in memory before the observer lets chunks wait in the ring. */
  maxQueuedEvents?: number;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

const now = (): number => performance.timeOrigin + performance.now();

/** Runs the server behind the tap until it exits; resolves with the exit code the tap should return. */
export async function runStdioTap(options: StdioTapOptions): Promise<number> {
  const ring = ChunkRing.create(options.ringBytes ?? 8 * 1024 * 1024);
  const sessionId = randomUUID();
  const handoffDir = (): string => handoffDirectory(collectorHomeRoot(options.home, options.configFile));
  const spill = new FrameSpill(handoffDir, `${sessionId}.spill`, options.spillBytes ?? 256 * 1024 * 1024);
  const config: ObserverConfig = {
    ...(options.home ? { home: options.home } : {}),
    ...(options.configFile ? { configFile: options.configFile } : {}),
    ...(options.name ? { name: options.name } : {}),
    sessionId,
    command: options.command,
    args: options.args,
    maxFrameBytes: options.maxFrameBytes ?? 16 * 1024 * 1024,
    flushTimeoutMs: options.flushTimeoutMs ?? 3000,
    maxQueuedEvents: options.maxQueuedEvents ?? 1000,
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
  /** Bytes of each direction neither observed nor spilled since the last spilled chunk of that direction. */
  const notKept: [number, number] = [0, 0];
  const forwarded: [number, number] = [0, 0];
  let started: HandoffHeader['start'];
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
    const t = now();
    const inRing = observerAlive && !spill.active ? ring.write(dir, t, chunk) : 0;
    if (inRing === chunk.length) return;
    const rest = chunk.subarray(inRing);
    if (spill.append({ dir, timestampMs: t, lostBefore: notKept[dir], bytes: rest })) notKept[dir] = 0;
    else {
      notKept[dir] += rest.length;
      unobservedTotal += rest.length;
    }
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

  child.on('spawn', () => {
    started = { t: now(), pid: child.pid };
    post({ type: 'start', ...started });
  });

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
  await spill.settled();
  unobservedTotal += spill.lostBytes;

  const exitCode = spawnError ? 127 : exit.code ?? 128 + (exit.signal ? constants.signals[exit.signal] : 0);
  const end = { t: now(), exitCode: exit.code, signal: exit.signal, ...(spawnError ? { error: `could not start: ${spawnError.message}` } : {}) };
  // With chunks in the spill, the session's end is recorded after them, by whoever records the hand-off.
  const spilled = spill.active;
  post({ type: 'end', ...end, forwarded, unobserved: unobservedTotal, handOff: spilled });
  if (spawnError) process.stderr.write(`tapwire tap: cannot start '${options.command}': ${spawnError.message}\n`);

  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  // A host that stops waiting sends SIGTERM: the tap then hands off at once instead of dying with the frames.
  let hurry: () => void = () => undefined;
  const hurried = new Promise<undefined>((resolve) => (hurry = () => resolve(undefined)));
  for (const signal of FORWARDED_SIGNALS) process.on(signal, hurry);
  const result = await Promise.race([summary, hurried, delay(options.handoffAfterMs ?? 1000)]);
  for (const signal of FORWARDED_SIGNALS) process.off(signal, hurry);
  if (!result || spilled) {
    handOff(result ? 'frames spilled while the observer was behind' : 'the observer had not finished when the server exited');
    // The observer may be starved of CPU: it is not waited for, and stops with the process.
    observer.unref();
    return exitCode;
  }
  if (result.dropped > 0) {
    process.stderr.write(`tapwire tap: ${result.dropped} of ${result.events} events could not be stored${result.lastError ? ` (${result.lastError})` : ''}\n`);
  }
  await observer.terminate();
  return exitCode;

  function handOff(reason: string): void {
    const { point, held } = ring.handOff();
    const heldBytes: [number, number] = [0, 0];
    for (const chunk of held) heldBytes[chunk.dir] += chunk.bytes.length;
    // The observer's durable offsets count bytes that entered the ring; the held records begin where the ring's count minus theirs does.
    const skip = ([0, 1] as const).map((dir) => Math.max(0, point.offsets[dir] - (ring.writtenBytes(dir) - heldBytes[dir]))) as [number, number];
    const header: HandoffHeader = {
      server: { sessionId, command: options.command, args: options.args, ...(options.name ? { name: options.name } : {}) },
      host: currentHostSession(process.ppid),
      tapPid: process.pid,
      ...(started ? { start: started } : {}),
      end: { ...end, lostAtEnd: notKept },
      forwarded,
      unobserved: unobservedTotal,
      point,
      skip,
      ...(spill.close() ? { spill: spill.fileName } : {}),
      reason,
    };
    // A hand-off is not a loss: the session's end records it (its reason), so it says nothing on stderr.
    try {
      writeHandoff(handoffDir(), header, held);
    } catch (error) {
      process.stderr.write(`tapwire tap: ${reason}, and the hand-off could not be written (${(error as Error).message}): events of this session are missing\n`);
    }
    if (unobservedTotal > 0) process.stderr.write(`tapwire tap: ${unobservedTotal} bytes were forwarded without being observed or spilled\n`);
  }
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
