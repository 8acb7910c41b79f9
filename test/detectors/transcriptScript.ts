/**
 * Scripts MCP traffic as transcript records (docs/ARCHITECTURE.md) — initialize, tools/list, calls, resources,
 * prompts, sampling — for one host session with any number of servers, on an event-time clock the
 * script controls. Records become events through the same TranscriptReader and normalizer a replay
 * uses (with redaction), so detectors see exactly what a worker would.
 */
import { transcriptEvents } from '../../cli/ruleTesting/transcriptEvents.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

/** One transcript line. */
export interface TranscriptRecord {
  ts: string;
  session: string;
  host_session?: string;
  server: string;
  server_command?: string;
  server_url?: string;
  direction: 'client_to_server' | 'server_to_client';
  message: Record<string, unknown>;
}

/** A tool as a server lists it. */
export interface ScriptTool {
  name: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

/** What a call returns: text (one text block), or a whole result; `error` makes it a JSON-RPC error. */
export interface CallOutcome {
  text?: string;
  result?: Record<string, unknown>;
  isError?: boolean;
  error?: string;
}

/** Where a server runs: its name, and its command or URL (the server identity). */
export interface ScriptServerSpec {
  name: string;
  command?: string;
  url?: string;
  /** The transcript session label (default: the name). */
  session?: string;
  /** serverInfo.name reported in initialize (default: the name). */
  reportedName?: string;
  hostSession?: string;
}

/** One server's session in a script. */
export class ScriptServer {
  #nextId = 1;

  /** Created by TranscriptScript.server(). */
  constructor(
    private readonly script: TranscriptScript,
    readonly spec: ScriptServerSpec,
  ) {}

  #record(direction: TranscriptRecord['direction'], message: Record<string, unknown>): void {
    this.#push(direction, { jsonrpc: '2.0', ...message });
  }

  #push(direction: TranscriptRecord['direction'], message: Record<string, unknown>): void {
    const { name, command, url, session } = this.spec;
    const hostSession = this.spec.hostSession ?? this.script.hostSession;
    this.script.push({
      session: session ?? name,
      ...(hostSession === undefined ? {} : { host_session: hostSession }),
      server: name,
      ...(command === undefined ? {} : { server_command: command }),
      ...(url === undefined ? {} : { server_url: url }),
      direction,
      message,
    });
  }

  #exchange(method: string, params: Record<string, unknown>, outcome: CallOutcome | Record<string, unknown>, fromServer = false): void {
    const id = this.#nextId++;
    this.#record(fromServer ? 'server_to_client' : 'client_to_server', { id, method, params });
    const o = outcome as CallOutcome;
    if (o.error !== undefined) {
      this.#record(fromServer ? 'client_to_server' : 'server_to_client', { id, error: { code: -32603, message: o.error } });
      return;
    }
    this.#record(fromServer ? 'client_to_server' : 'server_to_client', { id, result: outcome });
  }

  /** initialize (+ notifications/initialized), optionally with instructions. */
  initialize(instructions?: string): this {
    this.#exchange('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'scripted-host', version: '1.0.0' } }, {
      protocolVersion: '2025-06-18',
      capabilities: { tools: {} },
      serverInfo: { name: this.spec.reportedName ?? this.spec.name, version: '1.0.0' },
      ...(instructions === undefined ? {} : { instructions }),
    });
    this.#record('client_to_server', { method: 'notifications/initialized' });
    return this;
  }

  /** tools/list returning `tools` (inputSchema defaults to an empty object schema). */
  listTools(tools: readonly ScriptTool[]): this {
    this.#exchange('tools/list', {}, { tools: tools.map((t) => ({ inputSchema: { type: 'object' }, ...t })) });
    return this;
  }

  /** tools/call of `tool` with `args`, answered with `outcome`. */
  call(tool: string, args: Record<string, unknown>, outcome: CallOutcome = { text: 'ok' }): this {
    const result = outcome.result ?? { content: [{ type: 'text', text: outcome.text ?? '' }], ...(outcome.isError ? { isError: true } : {}) };
    this.#exchange('tools/call', { name: tool, arguments: args }, outcome.error === undefined ? result : outcome);
    return this;
  }

  /** resources/read of `uri` returning `text`. */
  readResource(uri: string, text: string): this {
    this.#exchange('resources/read', { uri }, { contents: [{ uri, mimeType: 'text/plain', text }] });
    return this;
  }

  /** prompts/get of `name` returning one user message with `text`. */
  getPrompt(name: string, text: string): this {
    this.#exchange('prompts/get', { name }, { messages: [{ role: 'user', content: { type: 'text', text } }] });
    return this;
  }

  /** A sampling/createMessage request from the server with `text`, and the host's answer. */
  sample(text: string, answer = 'Done.'): this {
    this.#exchange('sampling/createMessage', { messages: [{ role: 'user', content: { type: 'text', text } }], maxTokens: 200 }, { role: 'assistant', content: { type: 'text', text: answer }, model: 'scripted-model' }, true);
    return this;
  }

  /** A frame from the server that is JSON but not JSON-RPC (it becomes an unparsed event). */
  garbage(text: string): this {
    this.#push('server_to_client', { log: text });
    return this;
  }
}

/** A host session's traffic on a controlled clock. */
export class TranscriptScript {
  readonly #records: TranscriptRecord[] = [];
  #now: number;

  /** Starts the clock at `start` (ISO time). */
  constructor(
    start: string,
    readonly hostSession?: string,
  ) {
    this.#now = Date.parse(start);
  }

  /** A server's session in this script. */
  server(spec: ScriptServerSpec | string): ScriptServer {
    return new ScriptServer(this, typeof spec === 'string' ? { name: spec, command: `node ${spec}.js` } : spec);
  }

  /** Moves the clock forward. */
  advance(ms: number): this {
    this.#now += ms;
    return this;
  }

  /** Sets the clock to an ISO time (never backwards). */
  at(iso: string): this {
    this.#now = Math.max(this.#now, Date.parse(iso));
    return this;
  }

  /** The clock (epoch ms). */
  get now(): number {
    return this.#now;
  }

  /** Appends a record at the current time; the clock moves 1 ms so records keep their order. */
  push(record: Omit<TranscriptRecord, 'ts'>): void {
    this.#records.push({ ts: new Date(this.#now).toISOString(), ...record });
    this.#now += 1;
  }

  /** The transcript records, in order. */
  records(): TranscriptRecord[] {
    return [...this.#records];
  }

  /** The NDJSON text of the transcript. */
  ndjson(): string {
    return `${this.records().map((r) => JSON.stringify(r)).join('\n')}\n`;
  }

  /** The events a replay of this transcript yields (redacted as a collector would). */
  events(file = 'scripted.ndjson'): McpEvent[] {
    return transcriptEvents(file, this.records().map((value, i) => ({ value, line: i + 1 })));
  }
}
