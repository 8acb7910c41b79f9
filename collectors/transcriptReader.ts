/**
 * Reads transcripts (NDJSON; see docs/ARCHITECTURE.md) into normalized events for replay and tests. A line is a
 * normalized event (validated, passed through) or a transcript record of one JSON-RPC message, which
 * goes through the same SessionNormalizer a live tap uses. Session ids and timestamps derive only from
 * the file's name and contents, so replaying a file twice yields identical event ids.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { eventTimeOf } from '../pipeline/eventTime.js';
import { tapwireVersion } from '../pipeline/packagePaths.js';
import { checkEvent } from '../pipeline/schemaValidator.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import { describeJsonError } from './jsonRpcMessage.js';
import { SessionNormalizer, type Direction, type SessionIdentity } from './normalizer.js';
import type { Redactor } from './redaction.js';

/** A transcript line that cannot be used; names the file, line and field. */
export class TranscriptError extends Error {
  /** `field` is '' when the problem is the line as a whole (not JSON, not an object). */
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly detail: string,
  ) {
    super(field === '' ? `${file}:${line}: ${detail}` : `${file}:${line}: field '${field}': ${detail}`);
    this.name = 'TranscriptError';
  }
}

/** `file` names the transcript in errors and seeds its session ids. */
export interface TranscriptReaderOptions {
  file: string;
  redactor: Redactor;
  observerVersion?: string;
}

/** One transcript record as docs/ARCHITECTURE.md defines it. */
interface TranscriptRecord {
  ts?: string;
  session?: string;
  host_session?: string;
  server: string;
  server_command?: string;
  server_url?: string;
  direction: Direction;
  message: object;
}

const RECORD_FIELDS = ['ts', 'session', 'host_session', 'server', 'server_command', 'server_url', 'direction', 'message'] as const;
const OPTIONAL_STRINGS = ['session', 'host_session', 'server_command', 'server_url'] as const;
const DIRECTIONS: readonly Direction[] = ['client_to_server', 'server_to_client'];
/** Records without ts are placed at this instant plus their line number in milliseconds. */
const FIXED_EPOCH_MS = Date.UTC(2025, 0, 1);
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

interface ReplaySession {
  normalizer: SessionNormalizer;
  /** server, server_command and server_url as first seen, with that line: a session has one server. */
  server: Pick<TranscriptRecord, 'server' | 'server_command' | 'server_url'>;
  firstLine: number;
}

/** Turns transcript lines into events, keeping one SessionNormalizer per transcript session. */
export class TranscriptReader {
  readonly #file: string;
  readonly #redactor: Redactor;
  readonly #observerVersion: string;
  readonly #sessions = new Map<string, ReplaySession>();

  /** `file` names the transcript in errors and, by its basename, seeds the session ids. */
  constructor(options: TranscriptReaderOptions) {
    this.#file = options.file;
    this.#redactor = options.redactor;
    this.#observerVersion = options.observerVersion ?? tapwireVersion();
  }

  /** The events of one line (none for a blank line); throws TranscriptError for a line that cannot be used. */
  line(text: string, lineNo: number): McpEvent[] {
    const trimmed = text.replace(/^\uFEFF/, '').trim();
    if (trimmed === '') return [];
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw this.#error(lineNo, '', `not valid JSON (${describeJsonError(error)})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw this.#error(lineNo, '', 'must be a JSON object: a transcript record or a normalized event');
    }
    const o = value as Record<string, unknown>;
    if (Object.hasOwn(o, '@timestamp') || Object.hasOwn(o, 'ecs')) return [this.#event(o, lineNo)];
    const record = this.#record(o, lineNo);
    const timestampMs = record.ts === undefined ? FIXED_EPOCH_MS + lineNo : eventTimeOf(record.ts);
    return this.#session(record, lineNo).frame(record.direction, JSON.stringify(record.message), timestampMs);
  }

  #error(lineNo: number, field: string, detail: string): TranscriptError {
    return new TranscriptError(this.#file, lineNo, field, detail);
  }

  #event(o: Record<string, unknown>, lineNo: number): McpEvent {
    const check = checkEvent(o);
    if (check.valid) return o as unknown as McpEvent;
    // checkEvent lines read "<instance path>: <message>[ '<property>']"; turn the path into a dotted field.
    const first = check.errors[0] ?? '/: invalid event';
    const split = first.indexOf(': ');
    const path = first.slice(1, split).split('/').filter(Boolean);
    const detail = first.slice(split + 2);
    const named = /required property '([^']+)'|additional properties '([^']+)'/.exec(detail);
    const field = [...path, ...(named ? [named[1] ?? named[2]] : [])].join('.') || '(event)';
    throw this.#error(lineNo, field, `normalized event is invalid: ${detail}`);
  }

  #record(o: Record<string, unknown>, lineNo: number): TranscriptRecord {
    const unknown = Object.keys(o).find((k) => !(RECORD_FIELDS as readonly string[]).includes(k));
    if (unknown !== undefined) throw this.#error(lineNo, unknown, `unknown field; a transcript record has ${RECORD_FIELDS.join(', ')}`);
    if (typeof o.server !== 'string' || o.server === '') throw this.#error(lineNo, 'server', 'required: the server name, a non-empty string');
    if (typeof o.direction !== 'string' || !DIRECTIONS.includes(o.direction as Direction)) {
      throw this.#error(lineNo, 'direction', `must be "client_to_server" or "server_to_client" (got ${JSON.stringify(o.direction) ?? 'nothing'})`);
    }
    if (o.message === null || typeof o.message !== 'object') {
      throw this.#error(lineNo, 'message', `must be a JSON-RPC message object or batch array (got ${o.message === undefined ? 'nothing' : JSON.stringify(o.message)})`);
    }
    if (o.ts !== undefined && (typeof o.ts !== 'string' || !ISO_8601.test(o.ts) || Number.isNaN(Date.parse(o.ts)))) {
      throw this.#error(lineNo, 'ts', `must be an ISO-8601 timestamp such as 2025-06-18T12:00:00Z (got ${JSON.stringify(o.ts)})`);
    }
    for (const key of OPTIONAL_STRINGS) {
      if (o[key] !== undefined && (typeof o[key] !== 'string' || o[key] === '')) throw this.#error(lineNo, key, 'must be a non-empty string');
    }
    if (typeof o.server_url === 'string' && !/^https?:$/.test(URL.parse(o.server_url)?.protocol ?? '')) {
      throw this.#error(lineNo, 'server_url', `must be an http(s) URL (got ${JSON.stringify(o.server_url)})`);
    }
    return o as unknown as TranscriptRecord;
  }

  #session(record: TranscriptRecord, lineNo: number): SessionNormalizer {
    const label = record.session ?? '';
    const known = this.#sessions.get(label);
    if (known) {
      for (const key of ['server', 'server_command', 'server_url'] as const) {
        if (record[key] !== known.server[key]) {
          const where = label === '' ? 'this file (no session field)' : `session '${label}'`;
          throw this.#error(lineNo, key, `${where} began on line ${known.firstLine} with ${key} ${JSON.stringify(known.server[key]) ?? 'unset'}; got ${JSON.stringify(record[key]) ?? 'unset'}`);
        }
      }
      return known.normalizer;
    }
    const normalizer = new SessionNormalizer(this.#identity(record, label), { redactor: this.#redactor });
    this.#sessions.set(label, { normalizer, server: { server: record.server, server_command: record.server_command, server_url: record.server_url }, firstLine: lineNo });
    return normalizer;
  }

  #identity(record: TranscriptRecord, label: string): SessionIdentity {
    const seed = createHash('sha256').update(`${basename(this.#file)}\u0000${label}`).digest('hex').slice(0, 16);
    const url = record.server_url === undefined ? undefined : this.#redactor.text(record.server_url);
    const serverId = url ?? (record.server_command === undefined ? `name:${record.server}` : `stdio:${this.#redactor.text(record.server_command)}`);
    return {
      sessionId: `replay-${seed}`,
      hostSessionId: record.host_session,
      transport: url === undefined ? 'stdio' : 'streamable_http',
      serverId,
      serverName: record.server,
      context: {
        // The traffic's host is not in a transcript; a fixed value keeps replays identical across machines.
        host: { hostname: 'unknown' },
        observer: { type: 'replay', product: 'tapwire', vendor: 'Tapwire', version: this.#observerVersion },
        network: { transport: url === undefined ? 'pipe' : 'tcp' },
        ...(url === undefined ? {} : { url: { full: url } }),
      },
    };
  }
}

/** How readTranscriptFile redacts and where it reports bad lines. */
export interface ReadTranscriptOptions {
  redactor: Redactor;
  /** Receives each bad line; reading continues. Without it, the first bad line throws. */
  onError?: (error: TranscriptError) => void;
  observerVersion?: string;
}

/** Streams a transcript file's events line by line; bad lines go to onError and never cost the good ones. */
export async function* readTranscriptFile(path: string, options: ReadTranscriptOptions): AsyncGenerator<McpEvent> {
  const reader = new TranscriptReader({ file: path, redactor: options.redactor, observerVersion: options.observerVersion });
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  for await (const text of lines) {
    lineNo++;
    let events: McpEvent[];
    try {
      events = reader.line(text, lineNo);
    } catch (error) {
      if (!(error instanceof TranscriptError) || options.onError === undefined) throw error;
      options.onError(error);
      continue;
    }
    yield* events;
  }
}
