/**
 * How far a running tap's observer has got, kept beside the tap's running note (unrecordedNote.ts: runningProgressFile). A tap killed before it recorded or handed off its session cannot say how many
 * events its observer published: without this file its end had to be numbered past any event a session can have,
 * and its loss was a guess. With it, the recovery numbers the end right after the last event that may be on the bus
 * and counts what the observer had seen but not published.
 *
 * The observer rewrites one fixed-size record in place, before and after each publish: one pwrite on its own thread,
 * nothing on the forwarding path, no new disk block (it still succeeds on a full disk). A process killed mid-write
 * leaves either record whole, since a single write of a few dozen bytes reaches the page cache in one piece. The
 * tap creates the file with its note, and the observer only opens it: once the tap has removed it (the session
 * recorded), a late write of a starved observer cannot bring it back.
 */
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';

/** What the observer had done when it last wrote; bytes are per direction (0: host → server, 1: server → host). */
export interface ObservedProgress {
  /** Events that may be on the bus: every event numbered below this (a publish in flight counts). */
  mayBePublished: number;
  /** Events surely on the bus. */
  published: number;
  /** Events made so far (on the bus, in flight, or waiting). */
  made: number;
  frames: number;
  /** Bytes the observer read (the forwarded bytes it knows of), and those whose frames all have their events on the bus. */
  read: [number, number];
  recorded: [number, number];
}

const VERSION = 1;
const FIELDS = 9;

/** Creates a running note's progress file, at zero (the observer has published nothing). */
export function createObservedProgress(file: string): void {
  writeFileSync(file, encode({ mayBePublished: 0, published: 0, made: 0, frames: 0, read: [0, 0], recorded: [0, 0] }), { mode: 0o600 });
}

/** The progress a tap's observer left; undefined when there is none (a note written before taps kept it) or it is unreadable. */
export function readObservedProgress(file: string): ObservedProgress | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return undefined;
  }
  if (data.length < FIELDS * 8 || data.readDoubleLE(0) !== VERSION) return undefined;
  const at = (i: number): number => data.readDoubleLE(i * 8);
  return { mayBePublished: at(1), published: at(2), made: at(3), frames: at(4), read: [at(5), at(6)], recorded: [at(7), at(8)] };
}

/** The observer's handle on its progress file. */
export class ObservedProgressWriter {
  private fd: number | undefined;
  private readonly record = Buffer.alloc(FIELDS * 8);

  /** Opens the file the tap created; without it (removed, or never created) writes do nothing. */
  constructor(file: string) {
    try {
      this.fd = openSync(file, 'r+');
    } catch {
      this.fd = undefined;
    }
  }

  write(progress: ObservedProgress): void {
    if (this.fd === undefined) return;
    encode(progress, this.record);
    try {
      writeSync(this.fd, this.record, 0, this.record.length, 0);
    } catch {
      // The record before stays; a recovery then counts more as lost, never less.
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function encode(progress: ObservedProgress, into = Buffer.alloc(FIELDS * 8)): Buffer {
  const values = [VERSION, progress.mayBePublished, progress.published, progress.made, progress.frames, ...progress.read, ...progress.recorded];
  values.forEach((value, i) => into.writeDoubleLE(value, i * 8));
  return into;
}
