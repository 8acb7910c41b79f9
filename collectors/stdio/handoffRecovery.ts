/**
 * Records what stdio taps handed off at exit (handoffFile.ts): the events their observers had made but not
 * published, then the frames they had not recorded, normalized now as the observer would have, continuing
 * each session from the observer's state (numbering, negotiated facts, requests awaiting their response),
 * then the session's end with its final counters. Run by every tap's observer when it starts, and by `detect`, `up` and the
 * query commands, so a hand-off is recorded by whichever comes first.
 *
 * A recoverer claims a file by renaming it to carry its pid, so two never record the same one; a claim whose
 * process has died is taken over. A file is removed only once all its events are on the bus.
 *
 * A recovery stopped partway (killed, or the bus failing) resumes where it stopped: after each publish, the count of
 * events published is written in place to the hand-off's progress file (recoveryProgress.ts), and the next recovery,
 * which makes the same events again (normalization is deterministic), publishes only those past it. The one window
 * left is a stop between a publish and its progress write: that one batch (at most 1,000 events, same ids, which the
 * store keeps once) is published again.
 */
import { existsSync, readdirSync, renameSync, rmSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS } from '../../pipeline/bus.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { eventKey } from '../eventPublisher.js';
import type { Direction } from '../normalizer.js';
import { homeRedactor } from '../observerThread.js';
import { openCollectorBus, type CollectorBus } from '../spool/collectorBus.js';
import { collectorHomeRoot, handoffDirectory, readHandoff, readRecords, type HandoffHeader } from './handoffFile.js';
import { LineFramer } from './lineFramer.js';
import { RecoveryProgress } from './recoveryProgress.js';
import { sessionEndFields, stdioSession } from './stdioSession.js';

const DIRECTIONS: Record<0 | 1, Direction> = { 0: 'client_to_server', 1: 'server_to_client' };
const BATCH = 1000;
/** A tap writes its hand-off just before it exits; a live tap pid older than this is a recycled pid. */
const WRITER_EXIT_GRACE_MS = 60_000;

export interface RecoveryOptions {
  home?: string;
  configFile?: string;
  warn: (message: string) => void;
}

export interface RecoveryResult {
  sessions: number;
  frames: number;
}

/** Records every hand-off of the home through `bus`. */
export async function recoverHandoffs(bus: CollectorBus, options: RecoveryOptions): Promise<RecoveryResult> {
  const directory = handoffDirectory(collectorHomeRoot(options.home, options.configFile));
  const result: RecoveryResult = { sessions: 0, frames: 0 };
  if (!existsSync(directory)) return result;
  const names = readdirSync(directory);
  RecoveryProgress.removeOrphans(directory, names);
  for (const name of names) {
    const claimed = claim(directory, name);
    if (!claimed) continue;
    try {
      result.frames += await recordHandoff(bus, claimed, options);
      result.sessions++;
    } catch (error) {
      // Given back for the next recoverer (events already published again carry the same ids, which the store keeps once).
      options.warn(`cannot record the hand-off ${claimed} yet: ${(error as Error).message}`);
      renameSync(claimed, claimed.replace(/\.\d+$/, ''));
    }
  }
  return result;
}

/** Opens the home's collector bus, records its hand-offs, and closes it: for commands that have no collector bus. */
export async function recoverHomeHandoffs(options: RecoveryOptions): Promise<RecoveryResult> {
  if (!existsSync(handoffDirectory(collectorHomeRoot(options.home, options.configFile)))) return { sessions: 0, frames: 0 };
  const bus = openCollectorBus({ ...options });
  try {
    return await recoverHandoffs(bus, options);
  } finally {
    await bus.close(5000);
  }
}

/** Renames a recordable hand-off to this process's claim; undefined if it is not one, or not free. */
function claim(directory: string, name: string): string | undefined {
  const match = /^(.+\.handoff)(?:\.(\d+))?$/.exec(name);
  if (!match) return undefined;
  const file = join(directory, name);
  const claimer = match[2] === undefined ? undefined : Number(match[2]);
  if (claimer !== undefined && (claimer === process.pid || alive(claimer))) return undefined;
  if (claimer === undefined) {
    try {
      const { header } = readHandoff(file);
      if (alive(header.tapPid) && Date.now() - statSync(file).mtimeMs < WRITER_EXIT_GRACE_MS) return undefined;
    } catch {
      return undefined;
    }
  }
  const target = join(directory, `${match[1]}.${process.pid}`);
  try {
    renameSync(file, target);
    return target;
  } catch {
    return undefined; // another recoverer was faster
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Records one claimed hand-off, resuming from its progress; returns the frames recorded. */
async function recordHandoff(bus: CollectorBus, file: string, options: RecoveryOptions): Promise<number> {
  const progress = RecoveryProgress.open(file.replace(/\.\d+$/, ''));
  try {
    const frames = await publishHandoff(bus, file, progress, options);
    progress.remove();
    return frames;
  } finally {
    progress.close();
  }
}

/** Publishes the events of one hand-off past its progress, then removes it and its spill; returns the frames recorded. */
async function publishHandoff(bus: CollectorBus, file: string, progress: RecoveryProgress, options: RecoveryOptions): Promise<number> {
  const { header, data, recordsFrom } = readHandoff(file);
  const { point } = header;
  /** Events made so far, in publish order: those below progress.published are on the bus already. */
  let made = 0;
  const publish = async (records: { key: string; value: string }[]): Promise<void> => {
    const from = made;
    made += records.length;
    if (made <= progress.published) return;
    await bus.publish(TOPICS.events, records.slice(Math.max(0, progress.published - from)));
    progress.record(made);
  };
  const { normalizer, processFields } = stdioSession(header.server, header.host, homeRedactor(options.home, options.warn), point?.normalizer ?? point?.events ?? 0);
  let batch: McpEvent[] = [];
  let events = 0;
  const emit = async (event: McpEvent): Promise<void> => {
    events++;
    batch.push(event);
    if (batch.length >= BATCH) await flush();
  };
  const flush = async (): Promise<void> => {
    if (batch.length > 0) await publish(batch.map((event) => ({ key: eventKey(event), value: JSON.stringify(event) })));
    batch = [];
    // A tap's observer recovers beside its own session: each batch gives its live traffic a turn.
    await new Promise((resolve) => setImmediate(resolve));
  };

  // What the observer made and the bus had not taken yet goes first, as it was made.
  if (point && point.unpublished.length > 0) {
    await publish(point.unpublished.map((json) => ({ key: eventKey(JSON.parse(json) as McpEvent), value: json })));
  }
  // Not even session.start was made when the tap handed off.
  if (!point && header.start) {
    await emit(normalizer.lifecycle('session.start', header.start.t, { message: `tap started MCP server ${header.server.name ?? header.server.command}`, process: processFields(header.start.pid) }));
  }
  let frames = 0;
  const pending: McpEvent[] = [];
  const framers = ([0, 1] as const).map(
    (dir) =>
      new LineFramer(
        {
          frame: (line, t) => {
            frames++;
            pending.push(...normalizer.frame(DIRECTIONS[dir], line, t));
          },
          oversized: (excerpt, size, t) => {
            frames++;
            pending.push(normalizer.unparsed(DIRECTIONS[dir], excerpt, size, t, `frame of ${size} bytes exceeds the limit`));
          },
        },
        16 * 1024 * 1024,
      ),
  );
  const skip = [...header.skip];
  const spill = header.spill ? join(file, '..', header.spill) : undefined;
  const runs = [readRecords(data, recordsFrom), ...(spill && existsSync(spill) ? [readRecords(readFileSync(spill))] : [])];
  for (const run of runs) {
    for (const chunk of run) {
      const framer = framers[chunk.dir]!;
      if (chunk.lostBefore > 0) framer.gap();
      const cut = Math.min(skip[chunk.dir]!, chunk.bytes.length);
      skip[chunk.dir]! -= cut;
      framer.push(chunk.bytes.subarray(cut), chunk.timestampMs);
      for (const event of pending.splice(0)) await emit(event);
    }
  }
  header.end.lostAtEnd.forEach((lost, dir) => {
    if (lost > 0) framers[dir]!.gap();
  });
  for (const framer of framers) framer.end(header.end.t);
  for (const event of pending.splice(0)) await emit(event);
  if (!point?.sessionEnded) await emit(endEvent(header, frames, events));
  await flush();
  rmSync(file, { force: true });
  if (spill) rmSync(spill, { force: true });
  return frames;

  function endEvent(h: HandoffHeader, recovered: number, emitted: number): McpEvent {
    const tap: NonNullable<McpEvent['mcp']['tap']> = {
      frames: (h.point?.frames ?? 0) + recovered,
      events: (h.point?.events ?? 0) + emitted,
      dropped: h.point?.dropped ?? 0,
      bytes_unobserved: h.unobserved,
      bytes: { client_to_server: h.forwarded[0], server_to_client: h.forwarded[1] },
      reason: `handed off: ${h.reason}; ${recovered} frames recorded from the hand-off`,
    };
    return normalizer.lifecycle('session.end', h.end.t, { ...sessionEndFields(h.server, h.end), process: processFields(undefined, h.end.exitCode), tap });
  }
}

