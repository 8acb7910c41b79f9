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
 * Each frame is recorded exactly once, by the observer or through the hand-off: the tap asks the observer
 * to stop and continues from the point it acknowledges (or, if it is starved, from its last checkpoint,
 * taken over while it is not publishing; see ChunkRing), with the session's correlation state.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { currentHostSession } from '../hostSession.js';
import { ChunkRing, type StopOutcome } from './chunkRing.js';
import { homeRedactor } from '../observerThread.js';
import { collectorHomeRoot } from '../collectorHome.js';
import { FrameSpill, handoffDirectory, writeHandoff, type HandoffHeader } from './handoffFile.js';
import type { FromObserver, ObserverConfig, ObserverPoint, ObserverSummary, ToObserver } from './observerProtocol.js';
import { removeRunningTapNote, runningProgressFile, writeUnrecordedNote, type StdioUnrecordedNote } from '../unrecordedNote.js';
import { createObservedProgress } from './observedProgress.js';

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
  /**
   * Size of the ring of chunks copied for the observer (default 16 MiB: a burst of 100,000 small messages); when it
   * is full, chunks go to a spill file.
   */
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
const STOPPING_SIGNALS = new Set<NodeJS.Signals>(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT']);

const now = (): number => performance.timeOrigin + performance.now();
/** Room for the observer's checkpoint (its position and the session's requests in flight) in the ring's memory. */
const CHECKPOINT_BYTES = 4 * 1024 * 1024;
/** How long the tap waits for the observer to acknowledge a stop before it takes over from its last checkpoint. */
const STOP_ACKNOWLEDGE_MS = 500;
/**
 * How long a stop waits for a publish the observer has begun (its outcome decides where the hand-off starts):
 * after SIGTERM the MCP SDK waits 2 s more before SIGKILL.
 */
const PUBLISH_IN_FLIGHT_MS = 1000;

/** Runs the server behind the tap until it exits; resolves with the exit code the tap should return. */
export async function runStdioTap(options: StdioTapOptions): Promise<number> {
  const ring = ChunkRing.create(options.ringBytes ?? 16 * 1024 * 1024, CHECKPOINT_BYTES);
  const stopChannel = new MessageChannel();
  const sessionId = randomUUID();
  // Without --home, resolving the home loads the configuration (a schema compile of 0.3–0.6 s under load): on this
  // thread it delayed the session's first messages, and at exit the host's SIGKILL is 2 s behind its SIGTERM. The
  // observer resolves it as it starts and says so; only if it never did is it resolved here, when first needed.
  let resolvedHome: string | undefined = options.home ? collectorHomeRoot(options.home, options.configFile) : undefined;
  const homeRoot = (): string => (resolvedHome ??= collectorHomeRoot(options.home, options.configFile));
  const handoffDir = (): string => handoffDirectory(homeRoot());
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
    stopPort: stopChannel.port2,
  };
  // Heap limits keep the observer's memory close to what it holds (V8 otherwise grows lazily). If it
  // ever exceeded them, the worker would die and traffic would go on unobserved, reported as such.
  const observer = new Worker(new URL('./stdioObserver.js', import.meta.url), {
    workerData: config,
    transferList: [stopChannel.port2],
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 },
  });
  let observerAlive = true;
  let unobservedTotal = 0;
  /** Bytes of each direction neither observed nor spilled since the last spilled chunk of that direction. */
  const notKept: [number, number] = [0, 0];
  const forwarded: [number, number] = [0, 0];
  let started: HandoffHeader['start'];
  const summary = new Promise<ObserverSummary | undefined>((resolve) => {
    observer.on('message', (message: FromObserver) => {
      if (message.type === 'done') return resolve(message.summary);
      resolvedHome ??= message.root;
      if (started) noteRunning();
    });
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

  /** When the latest chunk of each direction arrived (stamped before it is forwarded). */
  const received: [number, number] = [0, 0];
  const observe = (dir: 0 | 1, chunk: Buffer): void => {
    forwarded[dir] += chunk.length;
    const t = received[dir];
    const inRing = observerAlive && !spill.active ? ring.write(dir, t, chunk) : 0;
    if (inRing === chunk.length) return;
    const rest = chunk.subarray(inRing);
    if (spill.append({ dir, timestampMs: t, lostBefore: notKept[dir], bytes: rest })) notKept[dir] = 0;
    else {
      if (unobservedTotal === 0) process.stderr.write('tapwire tap: the observer is behind and the spill is full or unwritable: forwarding without observing, skipped bytes are counted (session.end, status)\n');
      notKept[dir] += rest.length;
      unobservedTotal += rest.length;
    }
  };

  const child = spawn(options.command, options.args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let spawnError: Error | undefined;

  // A chunk's time is when it arrived, taken before it is forwarded: taken after, a tap that lost the CPU between the
  // two dated a response after the call the host made with it through another server's tap (a flow then seemed to
  // precede its source). Forwarding is wired before observation, so each chunk is written onward before it is copied.
  process.stdin.on('data', () => void (received[0] = now()));
  child.stdout.on('data', () => void (received[1] = now()));
  process.stdin.pipe(child.stdin);
  child.stdout.pipe(process.stdout, { end: false });
  process.stdin.on('data', (chunk: Buffer) => observe(0, chunk));
  child.stdout.on('data', (chunk: Buffer) => observe(1, chunk));
  // A peer that went away is not the tap's failure: the server's exit decides how the tap ends.
  child.stdin.on('error', () => undefined);
  process.stdout.on('error', () => undefined);

  // A host that stops waiting sends SIGTERM: the tap then hands off at once instead of dying with the frames.
  let wasHurried = false;
  let hurry: () => void = () => undefined;
  const hurried = new Promise<undefined>((resolve) => (hurry = () => {
    wasHurried = true;
    resolve(undefined);
  }));
  // One listener from spawn to return: while none is installed a signal takes its default action and kills the tap
  // with its frames unrecorded, and under load the steps between the server's exit and the hand-off take seconds.
  // A stopping signal hurries the exit also when it reaches the server alive: the host's SIGKILL follows it either way.
  const onSignal = (signal: NodeJS.Signals): void => {
    const serverRuns = child.exitCode === null && child.signalCode === null;
    if (serverRuns) child.kill(signal);
    if (!serverRuns || STOPPING_SIGNALS.has(signal)) hurry();
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);

  /** The running tap's note of its session (unrecordedNote.ts), so that a kill before the session is recorded is not silent. */
  let runningNote: string | undefined;
  child.on('spawn', () => {
    started = { t: now(), pid: child.pid };
    post({ type: 'start', ...started });
    if (resolvedHome) noteRunning();
  });
  /** Writes the running note once the server has started and the home is known (at once with --home, else once the observer says). */
  let noteTried = false;
  function noteRunning(): void {
    if (noteTried || !started) return;
    noteTried = true;
    try {
      runningNote = writeUnrecordedNote(homeRoot(), { running: { server: redactedServer(), host: currentHostSession(process.ppid), tapPid: process.pid, start: started } });
      // A note without its progress (a kill right here) is recovered as one whose observer's progress is unknown.
      const progressFile = runningProgressFile(runningNote);
      createObservedProgress(progressFile);
      post({ type: 'progress', file: progressFile });
    } catch (error) {
      process.stderr.write(`tapwire tap: cannot note the session as running (${(error as Error).message}): if the tap is killed before recording it, it leaves no trace\n`);
    }
  }
  /** The running note is no longer needed (the session is recorded or handed off), or an unrecorded note replaced it. */
  const sessionRecorded = (): void => {
    if (runningNote) removeRunningTapNote(runningNote);
  };

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (error) => {
      spawnError = error;
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  // From here the session is recorded or handed off within moments: a note written late could outlive it.
  noteTried = true;
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
  const result = await Promise.race([summary, hurried, delay(options.handoffAfterMs ?? 1000)]);
  if (!result || spilled || result.unpublished > 0) {
    handOff(!result ? 'the observer had not finished when the server exited' : spilled ? 'frames spilled while the observer was behind' : `the bus did not take ${result.unpublished} events in time${result.lastError ? ` (${result.lastError})` : ''}`);
    // The observer may be starved of CPU: it is not waited for, and stops with the process.
    observer.unref();
    stopChannel.port1.close();
    for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
    return exitCode;
  }
  stopChannel.port1.close();
  if (result.dropped > 0) {
    process.stderr.write(`tapwire tap: ${result.dropped} of ${result.events} events could not be stored${result.lastError ? ` (${result.lastError})` : ''}\n`);
  }
  sessionRecorded();
  await observer.terminate();
  for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
  return exitCode;

  function handOff(why: string): void {
    ring.requestStop();
    // After SIGTERM the host kills the tap 2 s later: the observer's checkpoint (which keeps the correlation too) is
    // taken at once rather than waiting for an acknowledgement, and a publish in flight is waited for less.
    const outcome = ring.awaitStop(observerAlive && !wasHurried ? STOP_ACKNOWLEDGE_MS : 0, wasHurried ? PUBLISH_IN_FLIGHT_MS / 2 : PUBLISH_IN_FLIGHT_MS);
    const { point: released, held } = ring.handOff();
    const point = outcome === 'acknowledged' ? lastMessage(stopChannel.port1) : released.checkpoint && (JSON.parse(released.checkpoint.toString()) as ObserverPoint);
    const heldBytes: [number, number] = [0, 0];
    for (const chunk of held) heldBytes[chunk.dir] += chunk.bytes.length;
    // The observer's offsets count bytes that entered the ring; the held records begin where the ring's count minus theirs does.
    const skip = ([0, 1] as const).map((dir) => Math.max(0, (point?.offsets[dir] ?? 0) - (ring.writtenBytes(dir) - heldBytes[dir]))) as [number, number];
    const spilledFile = spill.close();
    const rest = heldBytes[0] + heldBytes[1] - skip[0] - skip[1];
    // The observer recorded the whole session, its end included, before it stopped: nothing is left to hand off.
    if (point?.sessionEnded && point.unpublished.length === 0 && rest === 0 && !spilledFile && outcome !== 'taken-during-publish') return sessionRecorded();
    const reason = `${why}${stopNote(outcome, point)}`;
    const header: HandoffHeader = {
      server: { sessionId, command: options.command, args: options.args, ...(options.name ? { name: options.name } : {}) },
      host: currentHostSession(process.ppid),
      tapPid: process.pid,
      ...(started ? { start: started } : {}),
      end: { ...end, lostAtEnd: notKept },
      forwarded,
      unobserved: unobservedTotal,
      ...(point ? { point } : {}),
      skip,
      ...(spilledFile ? { spill: spill.fileName } : {}),
      reason,
    };
    // A hand-off is not a loss: the session's end records it (its reason), so it says nothing on stderr.
    try {
      writeHandoff(handoffDir(), header, held, !wasHurried);
      sessionRecorded();
    } catch (error) {
      const message = (error as Error).message;
      const note = noteUnrecorded(header, { unpublishedEvents: point?.unpublished.length ?? 0, unrecordedBytes: rest + spill.keptBytes, error: message });
      process.stderr.write(`tapwire tap: ${reason}, and the hand-off could not be written (${message}): events of this session are missing${note}\n`);
    }
    if (unobservedTotal > 0) process.stderr.write(`tapwire tap: ${unobservedTotal} bytes were forwarded without being observed or spilled\n`);
  }

  /** The server as notes hold it: outside the home, its arguments redacted. */
  function redactedServer(): HandoffHeader['server'] {
    const redactor = homeRedactor(options.home, () => undefined);
    return { sessionId, command: options.command, args: redactor.args([options.command, ...options.args]).slice(1), ...(options.name ? { name: options.name } : {}) };
  }

  /** Leaves a note of the unrecorded session outside the home, for `status`; says where, or why not. */
  function noteUnrecorded(header: HandoffHeader, lost: Omit<StdioUnrecordedNote, 'header'>): string {
    const { point, skip: _skip, spill: _spill, ...known } = header;
    try {
      // It replaces the running note of the session (same file).
      const file = writeUnrecordedNote(homeRoot(), { header: { ...known, server: redactedServer(), ...(point ? { point: { frames: point.frames, events: point.events, dropped: point.dropped, sessionEnded: point.sessionEnded } } : {}) }, ...lost });
      return `; the session is noted in ${file}, for the next tapwire command to record with its losses`;
    } catch (error) {
      return `; no note of the session could be left either (${(error as Error).message})`;
    }
  }
}

/** The last message waiting on `port`: the observer's acknowledgement of a stop. */
function lastMessage(port: MessagePort): ObserverPoint | undefined {
  let last: ObserverPoint | undefined;
  for (let received = receiveMessageOnPort(port); received; received = receiveMessageOnPort(port)) last = received.message as ObserverPoint;
  return last;
}

/** What a hand-off's reason says about how the observer stopped, when it is worth saying. */
function stopNote(outcome: StopOutcome, point: ObserverPoint | undefined): string {
  const correlation = point && !point.normalizer ? '; requests in flight at the hand-off were too many to hand over: their responses are not correlated' : '';
  if (outcome === 'taken-during-publish') return `; the observer was still publishing when the tap had to exit: events after sequence ${(point?.events ?? 0) - 1} may be recorded twice${correlation}`;
  return correlation;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
