/**
 * Records what stdio taps handed off at exit (handoffFile.ts): the events their observers had made but not
 * published, then the frames they had not recorded, normalized now as the observer would have, continuing
 * each session from the observer's state (numbering, negotiated facts, requests awaiting their response),
 * then the session's end with its final counters. Run by every tap's observer when it starts, and by `detect`, `up` and the
 * query commands, so a hand-off is recorded by whichever comes first.
 *
 * A recoverer claims a file by renaming it to carry its pid, so two never record the same one; a claim whose
 * process has died is taken over. A file is removed only once all its events are on the bus. Hand-offs are recorded
 * oldest first (a tap writes its hand-off as it exits): detectors that compare sessions read the bus in its order,
 * and a drift pin taken from a later session would turn an earlier session's definition into the "change".
 *
 * Sessions a tap could neither record nor hand off, and proxy sessions whose observer did not record their end
 * (unrecordedNote.ts), get their end recorded here too, with their losses.
 * So do sessions whose tap was killed before it recorded or handed them off (its running note left behind).
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
import { eventKey, eventRecord } from '../eventPublisher.js';
import type { Direction } from '../normalizer.js';
import { unrecordedProxyEvents } from '../http/proxySession.js';
import { homeRedactor } from '../observerThread.js';
import { openCollectorBus, type CollectorBus } from '../spool/collectorBus.js';
import { collectorHomeRoot } from '../collectorHome.js';
import { handoffDirectory, readHandoff, readHandoffHeader, readRecords, type HandoffHeader } from './handoffFile.js';
import { LineFramer } from './lineFramer.js';
import { RecoveryProgress } from './recoveryProgress.js';
import { noteWriter, readUnrecordedNote, removeRunningTapNote, runningProgressFile, UNKNOWN_PROGRESS_END_SEQUENCE, unrecordedNoteDirectory, unrecordedNoteNames, type RunningTapNote, type StdioUnrecordedNote } from '../unrecordedNote.js';
import { readObservedProgress, type ObservedProgress } from './observedProgress.js';
import { sessionEndFields, stdioSession, type StdioSession } from './stdioSession.js';

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

/** Records every hand-off of the home through `bus`, and the end of every session noted unrecorded (unrecordedNote.ts). */
export async function recoverHandoffs(bus: CollectorBus, options: RecoveryOptions): Promise<RecoveryResult> {
  const homeRoot = collectorHomeRoot(options.home, options.configFile);
  const directory = handoffDirectory(homeRoot);
  const result: RecoveryResult = { sessions: 0, frames: 0 };
  await recordUnrecordedNotes(bus, homeRoot, options);
  if (!existsSync(directory)) return result;
  const names = readdirSync(directory);
  RecoveryProgress.removeOrphans(directory, names);
  for (const name of oldestFirst(directory, names)) {
    const claimed = claim(directory, name, HANDOFF);
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

/** `names` in `directory` by the time they were last written, oldest first (a name gone meanwhile sorts last). */
function oldestFirst(directory: string, names: readonly string[]): string[] {
  const written = new Map(names.map((name) => [name, statSync(join(directory, name), { throwIfNoEntry: false })?.mtimeMs ?? Infinity]));
  return [...names].sort((a, b) => written.get(a)! - written.get(b)! || (a < b ? -1 : 1));
}

/**
 * Opens the home's collector bus, records its hand-offs, and closes it: for commands that have no collector bus.
 * Without a hand-off or note it may claim it only lists two directories (and reads the pid in each file there), so a
 * long-running command calls it whenever idle.
 */
export async function recoverHomeHandoffs(options: RecoveryOptions): Promise<RecoveryResult> {
  const homeRoot = collectorHomeRoot(options.home, options.configFile);
  // A running tap keeps its note for as long as it runs: while taps run, an idle command polling here must not open
  // (and close) the collector bus — a Kafka client and its spool — each time only to find nothing it may record.
  const handoffs = handoffDirectory(homeRoot);
  const notes = unrecordedNoteDirectory(homeRoot);
  const recordable = (existsSync(handoffs) && readdirSync(handoffs).some((name) => claimTarget(handoffs, name, HANDOFF) !== undefined)) || unrecordedNoteNames(homeRoot).some((name) => claimTarget(notes, name, NOTE) !== undefined);
  if (!recordable) return { sessions: 0, frames: 0 };
  const bus = openCollectorBus({ ...options });
  try {
    return await recoverHandoffs(bus, options);
  } finally {
    await bus.close(5000);
  }
}

/**
 * A kind of file a recoverer claims: its names (`<session><suffix>`), and the tap that wrote one: its pid, and whether
 * it keeps the file for as long as it runs (a running tap's note) rather than leaving it as it exits.
 */
interface Claimable {
  suffix: string;
  writer(file: string): { pid: number; running: boolean };
}

const HANDOFF: Claimable = { suffix: '.handoff', writer: (file) => ({ pid: readHandoffHeader(file).tapPid, running: false }) };
const NOTE: Claimable = { suffix: '.json', writer: (file) => noteWriter(readUnrecordedNote(file)) };

/** The name this process would claim `name` under; undefined if it is not a file of `kind`, or not free. */
function claimTarget(directory: string, name: string, kind: Claimable): string | undefined {
  const match = new RegExp(`^(.+${kind.suffix.replace('.', '\\.')})(?:\\.(\\d+))?$`).exec(name);
  if (!match) return undefined;
  const file = join(directory, name);
  const claimer = match[2] === undefined ? undefined : Number(match[2]);
  if (claimer !== undefined && (claimer === process.pid || alive(claimer))) return undefined;
  if (claimer === undefined) {
    try {
      // A running tap's note is its own for as long as its pid is alive (a recycled pid delays the record, never loses it).
      const writer = kind.writer(file);
      if (alive(writer.pid) && (writer.running || Date.now() - statSync(file).mtimeMs < WRITER_EXIT_GRACE_MS)) return undefined;
    } catch {
      return undefined;
    }
  }
  return join(directory, `${match[1]}.${process.pid}`);
}

/** Renames a recordable file to this process's claim; undefined if it is not one, or not free. */
function claim(directory: string, name: string, kind: Claimable): string | undefined {
  const target = claimTarget(directory, name, kind);
  if (target === undefined) return undefined;
  try {
    renameSync(join(directory, name), target);
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

/**
 * Records the end of each session a tap noted it could not record (nor hand off), with what is known of it: its
 * traffic is lost, and the end says how much and why, so `status` shows the session with its losses.
 */
async function recordUnrecordedNotes(bus: CollectorBus, homeRoot: string, options: RecoveryOptions): Promise<void> {
  const directory = unrecordedNoteDirectory(homeRoot);
  for (const name of unrecordedNoteNames(homeRoot)) {
    const claimed = claim(directory, name, NOTE);
    if (!claimed) continue;
    try {
      const note = readUnrecordedNote(claimed);
      const events =
        'running' in note
          ? killedSessionEvents(note, readObservedProgress(runningProgressFile(claimed)), options)
          : note.kind === 'http_proxy'
            ? unrecordedProxyEvents(note, homeRedactor(options.home, options.warn))
            : unrecordedSessionEvents(note, options);
      await bus.publish(TOPICS.events, events.map(eventRecord));
      removeRunningTapNote(claimed);
    } catch (error) {
      options.warn(`cannot record the unrecorded session noted in ${claimed} yet: ${(error as Error).message}`);
      renameSync(claimed, claimed.replace(/\.\d+$/, ''));
    }
  }
}

/**
 * The session's end, numbered after what the observer made; and its start first when none of the observer's events
 * reached the bus (then the lost ones are only counted, and the session is numbered from 0).
 */
function unrecordedSessionEvents(note: StdioUnrecordedNote, options: RecoveryOptions): McpEvent[] {
  const { header } = note;
  const { point } = header;
  const onBus = point ? point.events - point.dropped - note.unpublishedEvents : 0;
  const made = onBus > 0 ? point!.events : 0;
  const { normalizer, processFields } = stdioSession(header.server, header.host, homeRedactor(options.home, options.warn), made);
  const events: McpEvent[] = [];
  if (onBus === 0 && header.start) events.push(startEvent(header, { normalizer, processFields }));
  if (point?.sessionEnded && note.unpublishedEvents === 0) return events;
  const tap: NonNullable<McpEvent['mcp']['tap']> = {
    frames: point?.frames ?? 0,
    events: made + events.length,
    dropped: (point?.dropped ?? 0) + note.unpublishedEvents,
    bytes_unobserved: header.unobserved + note.unrecordedBytes,
    bytes: { client_to_server: header.forwarded[0], server_to_client: header.forwarded[1] },
    reason: `unrecorded: ${header.reason}, and the hand-off could not be written (${note.error}); recorded later from the tap's note`,
  };
  events.push(normalizer.lifecycle('session.end', header.end.t, { ...sessionEndFields(header.server, header.end), process: processFields(undefined, header.end.exitCode), tap }));
  return events;
}

/**
 * The end of a session whose tap was killed before it recorded or handed it off, and its start (numbered 0: if the
 * observer published one, it has the same id and is stored once). With the observer's progress, the end follows the
 * last event that may be on the bus, and the loss is what the observer had made or read but not published (a publish
 * in flight at the kill counts as lost); what it had not read yet is unknown. Without it (a note of older taps),
 * the end the tap could not make is counted as one dropped event, so `status` shows the loss.
 */
function killedSessionEvents(note: RunningTapNote, progress: ObservedProgress | undefined, options: RecoveryOptions): McpEvent[] {
  const { running } = note;
  const redactor = homeRedactor(options.home, options.warn);
  const events = running.start ? [startEvent(running, stdioSession(running.server, running.host, redactor))] : [];
  // Without progress (a note written before taps kept it, or a kill before the tap created it), the end is numbered past any event.
  const endSequence = progress ? Math.max(progress.mayBePublished, events.length) : UNKNOWN_PROGRESS_END_SEQUENCE;
  const { normalizer, processFields } = stdioSession(running.server, running.host, redactor, endSequence);
  const why = `unrecorded: tap ${running.tapPid} killed before it recorded or handed off the session; recorded later from its note`;
  const tap: NonNullable<McpEvent['mcp']['tap']> = progress
    ? {
        frames: progress.frames,
        events: Math.max(progress.made, events.length),
        // The start is made again here: it is no loss even when the observer had not published it.
        dropped: Math.max(0, progress.made - Math.max(progress.published, events.length)),
        bytes_unobserved: progress.read[0] - progress.recorded[0] + progress.read[1] - progress.recorded[1],
        bytes: { client_to_server: progress.read[0], server_to_client: progress.read[1] },
        reason: `${why} (and its observer's progress: traffic the observer had not read by then is not counted)`,
      }
    : { events: events.length, dropped: 1, reason: why };
  events.push(normalizer.lifecycle('session.end', Date.now(), { message: `MCP server ${running.server.name ?? running.server.command}: tap killed, the session's end is unknown`, outcome: 'unknown', process: processFields(undefined), tap }));
  return events;
}

/** The session.start a tap would have recorded for its server. */
function startEvent(header: Pick<HandoffHeader, 'server' | 'start'>, { normalizer, processFields }: StdioSession): McpEvent {
  return normalizer.lifecycle('session.start', header.start!.t, { message: `tap started MCP server ${header.server.name ?? header.server.command}`, process: processFields(header.start!.pid) });
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
    if (batch.length > 0) await publish(batch.map(eventRecord));
    batch = [];
    // A tap's observer recovers while its own session runs: each batch gives its framing of live traffic a turn.
    await new Promise((resolve) => setImmediate(resolve));
  };

  // What the observer made and the bus had not taken yet goes first, as it was made.
  if (point && point.unpublished.length > 0) {
    await publish(point.unpublished.map((json) => ({ key: eventKey(JSON.parse(json) as McpEvent), value: json })));
  }
  // Not even session.start was made when the tap handed off.
  if (!point && header.start) {
    await emit(startEvent(header, { normalizer, processFields }));
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

