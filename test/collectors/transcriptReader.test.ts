import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTranscriptFile, TranscriptError, TranscriptReader } from '../../collectors/transcriptReader.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { notification, request, response, schemaValid, testRedactor } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tapwire-transcript-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ndjson = (lines: unknown[]) => `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`;

async function collect(path: string): Promise<{ events: McpEvent[]; errors: TranscriptError[] }> {
  const events: McpEvent[] = [];
  const errors: TranscriptError[] = [];
  for await (const e of readTranscriptFile(path, { redactor: testRedactor, onError: (err) => errors.push(err), observerVersion: '9.9.9' })) events.push(e);
  return { events, errors };
}

const fs = { server: 'filesystem', server_command: 'npx -y @modelcontextprotocol/server-filesystem /tmp' };
const remote = { server: 'weather', server_url: 'https://mcp.example.com/mcp?api_key=abc123', session: 'remote-1', host_session: 'laptop:1234' };

describe('readTranscriptFile', () => {
  const happy = join(dir, 'happy.ndjson');
  const passThrough = {
    ...(new TranscriptReader({ file: 'seed.ndjson', redactor: testRedactor }).line(JSON.stringify({ ...fs, direction: 'client_to_server', message: request(1, 'ping') }), 1)[0] as McpEvent),
  };
  writeFileSync(
    happy,
    ndjson([
      { ...fs, direction: 'client_to_server', message: request(0, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cli', version: '1' } }) },
      { ...fs, direction: 'server_to_client', message: response(0, { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'secure-filesystem-server', version: '0.2.0' } }) },
      '',
      { ...remote, ts: '2025-06-18T12:00:00Z', direction: 'client_to_server', message: request('a', 'tools/call', { name: 'forecast', arguments: { city: 'Oslo' } }) },
      { ...remote, ts: '2025-06-18T12:00:01.500250Z', direction: 'server_to_client', message: response('a', { content: [{ type: 'text', text: 'rain' }] }) },
      { ...fs, direction: 'client_to_server', message: [notification('notifications/initialized'), request(1, 'tools/list')] },
      passThrough,
    ]),
  );

  it('turns records into normalized events, one session per session label', async () => {
    const { events, errors } = await collect(happy);
    expect(errors).toEqual([]);
    schemaValid(events);
    expect(events.map((e) => e.event.action)).toEqual(['initialize', 'initialize', 'tools/call', 'tools/call', 'notifications/initialized', 'tools/list', 'ping']);
    const [init, initResult, call, callResult, initialized] = events as [McpEvent, McpEvent, McpEvent, McpEvent, McpEvent];

    expect(init.mcp.session.id).toMatch(/^replay-[0-9a-f]{16}$/);
    expect(call.mcp.session.id).toMatch(/^replay-[0-9a-f]{16}$/);
    expect(call.mcp.session.id).not.toBe(init.mcp.session.id);
    expect([init, initResult, initialized].map((e) => e.event.id)).toEqual([0, 1, 2].map((n) => `${init.mcp.session.id}:${n}`));

    expect(init['@timestamp']).toBe('2025-01-01T00:00:00.001000Z');
    expect(initResult['@timestamp']).toBe('2025-01-01T00:00:00.002000Z');
    expect(initResult.mcp.server).toMatchObject({ id: `stdio:${fs.server_command}`, name: 'filesystem', reported_name: 'secure-filesystem-server' });
    expect(init.observer).toEqual({ type: 'replay', product: 'tapwire', vendor: 'Tapwire', version: '9.9.9' });
    expect(init.network.transport).toBe('pipe');
    expect(init.mcp.transport).toBe('stdio');
    expect(initialized.mcp.protocol?.version).toBe('2025-06-18');
    expect(initialized.mcp.message?.batch).toEqual({ index: 0, size: 2 });

    expect(call['@timestamp']).toBe('2025-06-18T12:00:00.000000Z');
    // A transcript's microseconds are kept (events exported from a store carry them).
    expect(callResult['@timestamp']).toBe('2025-06-18T12:00:01.500250Z');
    expect(callResult.event.duration).toBe(1_500_250_000);
    expect(callResult.gen_ai?.tool?.name).toBe('forecast');
    expect(call.mcp.server.id).toMatch(/^https:\/\/mcp\.example\.com\/mcp\?api_key=\[REDACTED:secret:[0-9a-f]{8}\]$/);
    expect(call.url).toEqual({ full: call.mcp.server.id });
    expect(call.mcp.transport).toBe('streamable_http');
    expect(call.network.transport).toBe('tcp');
    expect(call.mcp.host_session).toEqual({ id: 'laptop:1234' });

    expect(events[6]).toEqual(passThrough);
  });

  it('gives the same events on every replay of the same file', async () => {
    const first = await collect(happy);
    const second = await collect(happy);
    expect(second.events).toEqual(first.events);
    const copy = join(dir, 'other-name.ndjson');
    writeFileSync(copy, ndjson([{ ...fs, direction: 'client_to_server', message: request(1, 'ping') }]));
    const renamed = await collect(copy);
    expect(renamed.events[0]?.mcp.session.id).not.toBe(first.events[0]?.mcp.session.id);
  });

  it('reads CRLF files with a byte-order mark', async () => {
    const path = join(dir, 'crlf.ndjson');
    writeFileSync(path, `\uFEFF${JSON.stringify({ ...fs, direction: 'client_to_server', message: request(1, 'ping') })}\r\n${JSON.stringify({ ...fs, direction: 'server_to_client', message: response(1, {}) })}\r\n`);
    const { events, errors } = await collect(path);
    expect(errors).toEqual([]);
    expect(events.map((e) => e.mcp.message?.correlated ?? null)).toEqual([null, true]);
  });

  it('reports each bad line through onError with file, line and field, and keeps every good line', async () => {
    const path = join(dir, 'mixed.ndjson');
    writeFileSync(
      path,
      ndjson([
        { ...fs, direction: 'client_to_server', message: request(1, 'tools/list') },
        { ...fs, direction: 'upstream', message: request(2, 'ping') },
        '{not json',
        { ...fs, direction: 'server_to_client', message: response(1, { tools: [] }) },
      ]),
    );
    const { events, errors } = await collect(path);
    expect(events.map((e) => [e.event.action, e.mcp.message?.kind])).toEqual([
      ['tools/list', 'request'],
      ['tools/list', 'response'],
    ]);
    expect(errors.map((e) => [e.file, e.line, e.field])).toEqual([
      [path, 2, 'direction'],
      [path, 3, ''],
    ]);
    expect(errors[0]?.message).toBe(`${path}:2: field 'direction': must be "client_to_server" or "server_to_client" (got "upstream")`);
    expect(errors[1]?.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: not valid JSON \\(invalid JSON: `));
  });

  it('throws at the first bad line when there is no onError', async () => {
    const path = join(dir, 'strict.ndjson');
    writeFileSync(path, ndjson([{ ...fs, direction: 'client_to_server', message: request(1, 'ping') }, { direction: 'client_to_server', message: {} }]));
    const seen: McpEvent[] = [];
    await expect(async () => {
      for await (const e of readTranscriptFile(path, { redactor: testRedactor })) seen.push(e);
    }).rejects.toThrow(`${path}:2: field 'server': required: the server name, a non-empty string`);
    expect(seen).toHaveLength(1);
  });

  it('rejects a missing file with the file system error', async () => {
    await expect(collect(join(dir, 'absent.ndjson'))).rejects.toThrow(/ENOENT.*absent\.ndjson/);
  });
});

describe('TranscriptReader.line errors', () => {
  const base = { ...fs, direction: 'client_to_server', message: request(1, 'ping') };
  const cases: [string, unknown, string][] = [
    ['array line', [1], "T.ndjson:4: must be a JSON object: a transcript record or a normalized event"],
    ['unknown field', { ...base, sesion: 'x' }, "T.ndjson:4: field 'sesion': unknown field; a transcript record has ts, session, host_session, server, server_command, server_url, direction, message"],
    ['missing server', { ...base, server: undefined }, "T.ndjson:4: field 'server': required: the server name, a non-empty string"],
    ['missing direction', { ...base, direction: undefined }, `T.ndjson:4: field 'direction': must be "client_to_server" or "server_to_client" (got nothing)`],
    ['missing message', { ...base, message: undefined }, "T.ndjson:4: field 'message': must be a JSON-RPC message object or batch array (got nothing)"],
    ['scalar message', { ...base, message: 'ping' }, `T.ndjson:4: field 'message': must be a JSON-RPC message object or batch array (got "ping")`],
    ['bad ts', { ...base, ts: 'yesterday' }, `T.ndjson:4: field 'ts': must be an ISO-8601 timestamp such as 2025-06-18T12:00:00Z (got "yesterday")`],
    ['impossible ts', { ...base, ts: '2025-13-45T99:00:00Z' }, `T.ndjson:4: field 'ts': must be an ISO-8601 timestamp such as 2025-06-18T12:00:00Z (got "2025-13-45T99:00:00Z")`],
    ['empty session', { ...base, session: '' }, "T.ndjson:4: field 'session': must be a non-empty string"],
    ['numeric host_session', { ...base, host_session: 7 }, "T.ndjson:4: field 'host_session': must be a non-empty string"],
    ['ftp url', { ...base, server_url: 'ftp://x' }, `T.ndjson:4: field 'server_url': must be an http(s) URL (got "ftp://x")`],
    ['invalid event', { '@timestamp': '2025-01-01T00:00:00Z', ecs: { version: '9.1.0' } }, "T.ndjson:4: field 'event': normalized event is invalid: must have required property 'event'"],
  ];

  it.each(cases)('%s', (_name, line, message) => {
    const reader = new TranscriptReader({ file: 'T.ndjson', redactor: testRedactor });
    let thrown: unknown;
    try {
      reader.line(JSON.stringify(line), 4);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TranscriptError);
    expect((thrown as Error).message).toBe(message);
  });

  it('names the nested field of an invalid normalized event', () => {
    const reader = new TranscriptReader({ file: 'T.ndjson', redactor: testRedactor });
    const event = reader.line(JSON.stringify(base), 1)[0] as McpEvent;
    expect(() => reader.line(JSON.stringify({ ...event, event: { ...event.event, sequence: 'one' } }), 2)).toThrow("T.ndjson:2: field 'event.sequence': normalized event is invalid: must be integer");
    expect(() => reader.line(JSON.stringify({ ...event, mcp: { ...event.mcp, colour: 'red' } }), 3)).toThrow("T.ndjson:3: field 'mcp.colour': normalized event is invalid: must NOT have additional properties");
  });

  it('refuses a session that changes server, and leaves the session usable', () => {
    const reader = new TranscriptReader({ file: 'T.ndjson', redactor: testRedactor });
    reader.line(JSON.stringify({ ...base, session: 's' }), 1);
    expect(() => reader.line(JSON.stringify({ ...base, session: 's', server: 'other' }), 2)).toThrow(`T.ndjson:2: field 'server': session 's' began on line 1 with server "filesystem"; got "other"`);
    expect(() => reader.line(JSON.stringify({ ...base, server_command: 'node evil.js' }), 3)).not.toThrow();
    expect(() => reader.line(JSON.stringify(base), 4)).toThrow(
      `T.ndjson:4: field 'server_command': this file (no session field) began on line 3 with server_command "node evil.js"; got ${JSON.stringify(base.server_command)}`,
    );
    const next = reader.line(JSON.stringify({ ...base, session: 's', direction: 'server_to_client', message: response(1, {}) }), 5);
    expect(next[0]?.mcp.message?.correlated).toBe(true);
  });

  it('passes a JSON-RPC-invalid message through as an unparsed event', () => {
    const reader = new TranscriptReader({ file: 'T.ndjson', redactor: testRedactor });
    const [e] = schemaValid(reader.line(JSON.stringify({ ...base, message: { hello: 'world' } }), 1));
    expect(e?.mcp.message).toMatchObject({ kind: 'unparsed', parse_error: 'not a JSON-RPC message: "jsonrpc" is not "2.0"' });
  });
});
