/**
 * The trace of a stdio session a tap could record nothing more of: its observer could not store the events and its
 * hand-off could not be written either (the home's disk full, typically from the session's very start). Without it,
 * stderr would be the only trace and `status` would not know the session existed. The proxy leaves one too when its
 * observer stops before it has recorded the end of the proxy's session, or the bus did not take it
 * (http/proxySession.ts): the notes serve both collectors, so they live beside them rather than in either.
 *
 * The note goes where the home's full disk is not: the system's temporary directory (one directory per user and
 * home, 0700), as a small JSON file holding what the tap knows (server, times, byte counts, why). The next recovery
 * of the home (stdio/handoffRecovery.ts: any tap, `detect`, `up` or query command) records it as the session's end, with
 * what was lost counted, and removes it. It holds no traffic, and the server's arguments are redacted.
 *
 * A tap also leaves a note while it runs (RunningTapNote), written once its server has started and removed once the
 * session is recorded or handed off: a tap killed before either (the host's SIGKILL, 2 s after its SIGTERM, beats a
 * starved tap) leaves it behind, and the recovery records the session's end with the loss, instead of no trace. Beside
 * it, the tap's observer keeps how far it got (runningProgressFile), so that end follows the last event published.
 * The proxy keeps one for its own session while it runs (http/httpTap.ts): its stop may wait up to a minute on a bus
 * that refuses writes, longer than many supervisors' grace before SIGKILL.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ProxyUnrecordedNote } from './http/proxySession.js';
import type { HandoffHeader } from './stdio/handoffFile.js';

/**
 * The sequence of the end recorded for a killed collector's session when how far its observer got is unknown: it may
 * have published events nobody counted, and ids are `<session>:<sequence>`, so the end is numbered past any event a
 * session can have.
 */
export const UNKNOWN_PROGRESS_END_SEQUENCE = Number.MAX_SAFE_INTEGER;

/** A note of a session a collector could not record: a stdio tap's, or the proxy's own (proxySession.ts). */
export type UnrecordedNote = StdioUnrecordedNote | ProxyUnrecordedNote;

/** What a tap knows of a session it could not record. */
export interface StdioUnrecordedNote {
  kind?: 'stdio';
  /** The hand-off that could not be written, without its traffic: `point` keeps only the observer's counters. */
  header: Omit<HandoffHeader, 'point' | 'skip' | 'spill'> & { point?: { frames: number; events: number; dropped: number; sessionEnded: boolean } };
  /** Events the observer made that never reached the bus. */
  unpublishedEvents: number;
  /** Forwarded bytes neither recorded by the observer nor kept for a hand-off. */
  unrecordedBytes: number;
  /** Why the hand-off could not be written. */
  error: string;
}

/** A running tap's session: what a recovery needs to record its end if the tap dies without recording it. */
export interface RunningTapNote {
  running: Pick<HandoffHeader, 'server' | 'host' | 'tapPid' | 'start'>;
}

export type SessionNote = UnrecordedNote | RunningTapNote;

/** The note directory of a home: outside the home, keyed by its path. */
export function unrecordedNoteDirectory(homeRoot: string): string {
  const user = process.getuid?.() ?? 'user';
  return join(tmpdir(), `tapwire-${user}`, 'unrecorded', createHash('sha256').update(resolve(homeRoot)).digest('hex').slice(0, 16));
}

/** The process that wrote a note, and whether it keeps the note while it runs (a running tap's) rather than leaving it at exit. */
export function noteWriter(note: SessionNote): { pid: number; running: boolean } {
  if ('running' in note) return { pid: note.running.tapPid, running: true };
  return note.kind === 'http_proxy' ? { pid: note.tapPid, running: note.whileRunning === true } : { pid: note.header.tapPid, running: false };
}

/** The session a note is of: its file is named after it. */
function noteSessionId(note: SessionNote): string {
  if ('running' in note) return note.running.server.sessionId;
  return note.kind === 'http_proxy' ? note.sessionId : note.header.server.sessionId;
}

/**
 * Writes a note (temporary name, then rename); returns its path. Throws if the temporary directory refuses too.
 * A session has one note: an unrecorded note replaces the running tap's note of its session.
 */
export function writeUnrecordedNote(homeRoot: string, note: SessionNote): string {
  const file = noteFile(homeRoot, noteSessionId(note));
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.tmp`, JSON.stringify(note), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  if (!('running' in note)) rmSync(runningProgressFile(file), { force: true });
  return file;
}

/** The note of a session of a home. */
export function noteFile(homeRoot: string, sessionId: string): string {
  return join(unrecordedNoteDirectory(homeRoot), `${sessionId}.json`);
}

/**
 * Where a running tap's observer keeps how far it got (stdio/observedProgress.ts), beside the tap's note (`note` may be
 * its claimed name). A note written before taps kept one has none.
 */
export function runningProgressFile(note: string): string {
  return note.replace(/\.json(?:\.\d+)?$/, '.observed');
}

/** Removes a running tap's note and its progress once its session is recorded or handed off (already gone is fine). */
export function removeRunningTapNote(file: string): void {
  rmSync(file, { force: true });
  rmSync(runningProgressFile(file), { force: true });
}

/**
 * The notes of a home, by file name: `<session>.json`, or `<session>.json.<pid>` while a recoverer claims it (one
 * that died claiming it leaves it so, and the next recoverer takes it over); none when the directory does not exist.
 */
export function unrecordedNoteNames(homeRoot: string): string[] {
  try {
    return readdirSync(unrecordedNoteDirectory(homeRoot)).filter((name) => /\.json(?:\.\d+)?$/.test(name));
  } catch {
    return [];
  }
}

/** Reads one note. */
export function readUnrecordedNote(file: string): SessionNote {
  return JSON.parse(readFileSync(file, 'utf8')) as SessionNote;
}
