/**
 * The stdio tap's hand-off to disk. A tap must exit when its server has exited (the host gives it about
 * two seconds), but its observer runs at the lowest CPU priority and, on a busy machine, may not have
 * recorded the session yet. Rather than exit with frames unrecorded, the forwarding thread writes them —
 * raw, as they crossed the wire — to a hand-off file in the home; the next tap, `detect`, `up` or a query
 * command records them (handoffRecovery.ts). Writing raw bytes costs the forwarding thread one sequential
 * write, where recording them (parse, redact, SQLite) would cost it the CPU it does not have.
 *
 * The same record format serves the spill: when the observer falls so far behind that the ring is full,
 * the forwarding thread queues further chunks for a spill file (written off that thread) instead of dropping them.
 *
 * Files are written to a temporary name and renamed, so a reader never sees half a hand-off.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writev, writevSync } from 'node:fs';
import { join } from 'node:path';
import type { HostSession } from '../hostSession.js';
import type { HeldChunk } from './chunkRing.js';
import type { ObserverPoint } from './observerProtocol.js';
import type { StdioServer } from './stdioSession.js';

const MAGIC = Buffer.from('TWH1');
/** Per record: uint8 direction, float64 time, float64 bytes lost before it, uint32 length. */
const RECORD_HEADER = 21;

/** Everything needed to record the rest of a session without its tap. */
export interface HandoffHeader {
  server: StdioServer;
  host: HostSession;
  /** The tap's process: a hand-off is recorded only once it has exited. */
  tapPid: number;
  /** The server's pid and start, if it started. */
  start?: { t: number; pid: number | undefined };
  /** `lostAtEnd`: per direction, bytes after the last kept chunk that could not be kept. */
  end: { t: number; exitCode: number | null; signal: string | null; error?: string; lostAtEnd: [number, number] };
  /** Bytes forwarded per direction, and forwarded bytes neither observed nor handed off. */
  forwarded: [number, number];
  unobserved: number;
  /**
   * Where the observer stopped (absent: before it recorded anything): the events it made but did not publish,
   * and the state the session continues from. The records below start past `skip` bytes of each direction.
   */
  point?: ObserverPoint;
  skip: [number, number];
  /** A spill file (in the same directory) whose records follow these. */
  spill?: string;
  /** Why the tap handed off, for the record. */
  reason: string;
}

/** The directory of a home's hand-off and spill files. */
export function handoffDirectory(homeRoot: string): string {
  return join(homeRoot, 'handoff');
}

function recordHeader(chunk: HeldChunk): Buffer {
  const header = Buffer.alloc(RECORD_HEADER);
  header.writeUInt8(chunk.dir, 0);
  header.writeDoubleLE(chunk.timestampMs, 1);
  header.writeDoubleLE(chunk.lostBefore, 9);
  header.writeUInt32LE(chunk.bytes.length, 17);
  return header;
}

/** Every record of a record run, in order. */
export function* readRecords(data: Buffer, from = 0): Generator<HeldChunk> {
  for (let at = from; at + RECORD_HEADER <= data.length; ) {
    const length = data.readUInt32LE(at + 17);
    if (at + RECORD_HEADER + length > data.length) return; // a spill cut short by a crash ends at its last whole record
    yield {
      dir: data.readUInt8(at) as 0 | 1,
      timestampMs: data.readDoubleLE(at + 1),
      lostBefore: data.readDoubleLE(at + 9),
      bytes: data.subarray(at + RECORD_HEADER, at + RECORD_HEADER + length),
    };
    at += RECORD_HEADER + length;
  }
}

/**
 * Writes a hand-off file (temporary name, rename); returns its path. `durable` syncs it before the rename, for a
 * machine that stops right after; a hurried tap (the host's SIGTERM, SIGKILL 2 s later) skips that: a killed process
 * leaves its written pages to the kernel, so only a power loss in the next seconds could cost the file, and a sync
 * can wait on a busy disk for longer than the host's grace.
 */
export function writeHandoff(directory: string, header: HandoffHeader, held: readonly HeldChunk[], durable: boolean): string {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const file = join(directory, `${header.server.sessionId}.handoff`);
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const fd = openSync(`${file}.tmp`, 'w', 0o600);
  try {
    writevSync(fd, [MAGIC, length, json, ...held.flatMap((chunk) => [recordHeader(chunk), chunk.bytes])]);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${file}.tmp`, file);
  return file;
}

/** The header of hand-off `data` (the file's first bytes at least) and the offset of its first record. */
function headerOf(file: string, data: Buffer): { header: HandoffHeader; recordsFrom: number } {
  if (data.length < 8 || !data.subarray(0, 4).equals(MAGIC)) throw new Error(`${file}: not a Tapwire hand-off file`);
  const length = data.readUInt32LE(4);
  if (data.length < 8 + length) throw new Error(`${file}: hand-off header cut short`);
  return { header: JSON.parse(data.subarray(8, 8 + length).toString()) as HandoffHeader, recordsFrom: 8 + length };
}

/** Reads a hand-off file: its header and the offset of its first record. */
export function readHandoff(file: string): { header: HandoffHeader; data: Buffer; recordsFrom: number } {
  const data = readFileSync(file);
  return { ...headerOf(file, data), data };
}

/** Reads only a hand-off's header (a recoverer deciding whether it may claim the file; the records can be many MiB). */
export function readHandoffHeader(file: string): HandoffHeader {
  const fd = openSync(file, 'r');
  try {
    const prefix = Buffer.alloc(8);
    const got = readSync(fd, prefix, 0, 8, 0);
    const length = got === 8 ? prefix.readUInt32LE(4) : 0;
    const data = Buffer.alloc(got === 8 ? 8 + length : got);
    const read = readSync(fd, data, 0, data.length, 0);
    return headerOf(file, data.subarray(0, read)).header;
  } finally {
    closeSync(fd);
  }
}

/**
 * Chunks the ring had no room for, appended in order to a file of the hand-off directory (opened on the first
 * one). Bounded by `maxBytes`; past it, or when the disk refuses, a chunk is not kept and the caller counts it.
 *
 * The forwarding thread never waits for the disk: a chunk is queued (the stream's own buffer, no copy) and
 * the queue is written by one writev at a time on libuv's thread pool. A buffered write blocks for as long as
 * the kernel throttles dirty pages (measured here: 200 MiB took 2.1 s of wall time for 0.2 s of CPU), which
 * synchronous writes would have charged to traffic. Past `maxQueuedBytes` waiting for the disk, a chunk is not
 * kept either: a firehose faster than the disk sheds observation, counted, instead of slowing down.
 */
export class FrameSpill {
  private fd: number | undefined;
  private bytes = 0;
  private failed = false;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  /** Chunk bytes accepted but lost because a write failed: the caller adds them to what went unobserved. */
  private lost = 0;
  private readonly idle: (() => void)[] = [];

  constructor(
    private readonly directory: () => string,
    readonly fileName: string,
    private readonly maxBytes: number,
    private readonly maxQueuedBytes = 8 * 1024 * 1024,
  ) {}

  /** Bytes of chunks appended so far. */
  get keptBytes(): number {
    return this.bytes;
  }

  /** Whether chunks go here now: once one has, every later one must too, to keep the stream in order. */
  get active(): boolean {
    return this.fd !== undefined || this.failed;
  }

  /** Chunk bytes that were accepted, then lost to a failed write. */
  get lostBytes(): number {
    return this.lost;
  }

  /** Queues one chunk for the file; false if it could not be kept. */
  append(chunk: HeldChunk): boolean {
    const length = chunk.bytes.length;
    if (this.failed || this.bytes + length > this.maxBytes || this.queuedBytes + length > this.maxQueuedBytes) return false;
    if (this.fd === undefined) {
      try {
        const directory = this.directory();
        mkdirSync(directory, { recursive: true, mode: 0o700 });
        this.fd = openSync(join(directory, this.fileName), 'a', 0o600);
      } catch {
        this.failed = true;
        return false;
      }
    }
    this.queue.push(recordHeader(chunk), chunk.bytes);
    this.queuedBytes += length;
    this.bytes += length;
    if (!this.writing) this.writeQueued();
    return true;
  }

  /** Resolves once every queued chunk has been written (or lost and counted). */
  settled(): Promise<void> {
    if (!this.writing) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Syncs and closes the file, once settled(); true if it holds anything. */
  close(): boolean {
    if (this.fd === undefined) return false;
    try {
      fsyncSync(this.fd);
    } catch {
      // What reached the page cache is still there for the next reader unless the machine stops.
    }
    closeSync(this.fd);
    this.fd = undefined;
    return this.bytes - this.lost > 0;
  }

  private writeQueued(): void {
    const buffers = this.queue;
    const chunkBytes = this.queuedBytes;
    this.queue = [];
    this.writing = true;
    // One write at a time keeps the records in order (the file is opened for appending).
    const length = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
    writev(this.fd!, buffers, (error, written) => {
      this.queuedBytes -= chunkBytes;
      if (error || written < length) {
        // A torn record ends the file for its reader (readRecords stops at it); later chunks are refused and counted.
        this.failed = true;
        this.lost += chunkBytes + this.queuedBytes;
        this.queue = [];
        this.queuedBytes = 0;
      }
      if (this.queue.length > 0) return this.writeQueued();
      this.writing = false;
      for (const resolve of this.idle.splice(0)) resolve();
    });
  }
}
