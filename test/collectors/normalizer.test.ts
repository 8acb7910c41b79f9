import { describe, expect, it } from 'vitest';
import { SessionNormalizer } from '../../collectors/normalizer.js';
import { Redactor } from '../../collectors/redaction.js';
import { errorResponse, notification, request, response, schemaValid, stdioIdentity, testRedactor, TestSession } from './fixtures.js';

describe('SessionNormalizer: event envelope', () => {
  it('stamps ECS, data stream, session, server and context fields, with ids that follow the sequence', () => {
    const s = new TestSession(stdioIdentity({ namespace: 'team_a' }));
    const first = s.c2s(request(1, 'ping'));
    const second = s.s2c(response(1, {}));
    expect(first['@timestamp']).toBe('2025-06-15T15:06:40.005000Z');
    // The tap's clock has microseconds: two servers' taps often date a response and the call it provoked in one ms.
    expect(s.c2s(request(2, 'ping'), 0.25)['@timestamp']).toBe('2025-06-15T15:06:40.010250Z');
    expect(first.ecs.version).toBe('9.1.0');
    expect(first.data_stream).toEqual({ type: 'logs', dataset: 'mcp.messages', namespace: 'team_a' });
    expect(first.event).toMatchObject({ kind: 'event', dataset: 'mcp.messages', id: 'sess-1:0', sequence: 0, action: 'ping' });
    expect(second.event).toMatchObject({ id: 'sess-1:1', sequence: 1 });
    expect(first.mcp).toMatchObject({
      session: { id: 'sess-1' },
      host_session: { id: 'host-1' },
      transport: 'stdio',
      direction: 'client_to_server',
      server: { id: 'stdio:npx -y @modelcontextprotocol/server-memory', name: 'stdio:npx -y @modelcontextprotocol/server-memory' },
      message: { kind: 'request', size: JSON.stringify(request(1, 'ping')).length },
    });
    expect(second.mcp.direction).toBe('server_to_client');
    expect(first.host.hostname).toBe('workstation-7');
    expect(first.observer.type).toBe('stdio_tap');
    expect(first.network.transport).toBe('pipe');
    expect(first.process?.pid).toBe(4242);
    expect(first.jsonrpc).toEqual({ version: '2.0', request: { id: '1' } });
  });

  it('counts lifecycle events in the same sequence and carries their fields', () => {
    const s = new TestSession();
    const start = s.normalizer.lifecycle('session.start', s.now, { message: 'spawned server', process: { pid: 99, args: ['a'], command_line: 'node s.js --token=abc' } });
    s.c2s(request(1, 'ping'));
    const status = s.normalizer.lifecycle('tap.status', s.now, { tap: { frames: 2, events: 2, dropped: 0 }, outcome: 'success' });
    const end = s.normalizer.lifecycle('session.end', s.now, { process: { exit_code: 0 } });
    schemaValid([start, status, end]);
    expect([start.event.sequence, status.event.sequence, end.event.sequence]).toEqual([0, 2, 3]);
    expect(start.event).toMatchObject({ action: 'session.start', category: ['session'], type: ['start'] });
    expect(start.process).toEqual({ pid: 99, args: ['a'], command_line: expect.stringMatching(/^node s\.js --token=\[REDACTED:secret:[0-9a-f]{8}\]$/) });
    expect(start.message).toBe('spawned server');
    expect(status.mcp.tap).toEqual({ frames: 2, events: 2, dropped: 0 });
    expect(status.event.outcome).toBe('success');
    expect(end.event).toMatchObject({ category: ['session'], type: ['end'] });
    expect(end.mcp.direction).toBeUndefined();
  });

  it('uses the configured server name over the reported one, and records the reported one beside it', () => {
    const named = new TestSession(stdioIdentity({ serverName: 'memory' }));
    const unnamed = new TestSession();
    for (const s of [named, unnamed]) {
      s.c2s(request(0, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'claude-ai', version: '0.1.0' } }));
      s.s2c(response(0, { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'memory-server', version: '0.6.3', title: 'Memory' } }));
    }
    const later = named.c2s(notification('notifications/initialized'));
    expect(later.mcp.server).toMatchObject({ name: 'memory', reported_name: 'memory-server', version: '0.6.3', title: 'Memory' });
    expect(unnamed.c2s(notification('notifications/initialized')).mcp.server.name).toBe('memory-server');
  });

  it('adds the HTTP session id and per-frame HTTP extras once known', () => {
    const s = new TestSession(
      stdioIdentity({ transport: 'streamable_http', serverId: 'https://mcp.example.com/mcp', context: { ...stdioIdentity().context, network: { transport: 'tcp' }, url: { full: 'https://mcp.example.com/mcp' } } }),
    );
    const before = s.c2s(request(1, 'ping'));
    s.normalizer.setHttpSessionId('abc-123');
    s.now += 1;
    const http = { request: { method: 'POST', headers: { authorization: 'Bearer abcdefghijkl', accept: 'application/json' } }, response: { status_code: 200 } };
    const after = schemaValid(s.normalizer.frame('server_to_client', JSON.stringify(response(1, {})), s.now, { http, url: { full: 'https://mcp.example.com/mcp?x=1' } }))[0];
    expect(before.mcp.session).toEqual({ id: 'sess-1' });
    expect(after?.mcp.session).toEqual({ id: 'sess-1', http_id: 'abc-123' });
    expect(after?.http).toEqual({ request: { method: 'POST', headers: { authorization: expect.stringMatching(/^\[REDACTED:secret:/), accept: 'application/json' } }, response: { status_code: 200 } });
    expect(after?.url).toEqual({ full: 'https://mcp.example.com/mcp?x=1' });
    expect(before.url).toEqual({ full: 'https://mcp.example.com/mcp' });
  });

  it('rejects a namespace Elasticsearch would refuse', () => {
    expect(() => new SessionNormalizer(stdioIdentity({ namespace: 'Team-A' }), { redactor: testRedactor })).toThrow(/namespace 'Team-A'/);
  });
});

describe('SessionNormalizer: frames', () => {
  it('accepts Buffers and strings alike and strips one trailing carriage return', () => {
    const s = new TestSession();
    const line = JSON.stringify(request('a', 'tools/list'));
    const fromBuffer = s.c2s(Buffer.from(`${line}\r`));
    const fromString = s.c2s(`${line}\r`);
    for (const e of [fromBuffer, fromString]) {
      expect(e.mcp.message).toMatchObject({ kind: 'request', size: line.length + 1 });
      expect(e.event.action).toBe('tools/list');
    }
  });

  it('decodes invalid UTF-8 with replacement characters instead of failing', () => {
    const s = new TestSession();
    const prefix = Buffer.from('{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"a');
    const frame = Buffer.concat([prefix, Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('b"}}')]);
    const e = s.s2c(frame);
    expect(e.mcp.message?.kind).toBe('notification');
    expect(e.mcp.params?.data).toBe('a\uFFFD\uFFFD\uFFFDb');
    expect(e.mcp.message?.size).toBe(frame.length);
  });

  it('turns non-JSON into one unparsed event with a redacted, bounded excerpt and no echo of the input in the error', () => {
    const s = new TestSession(stdioIdentity(), { maxExcerptBytes: 64 });
    const secret = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
    const e = s.s2c(`Server starting with token ${secret} ${'x'.repeat(500)}`);
    expect(e.event).toMatchObject({ action: 'unparsed', category: ['api'], type: ['protocol'] });
    expect(e.mcp.message).toMatchObject({ kind: 'unparsed', truncated: true });
    expect(e.mcp.message?.parse_error).toMatch(/^invalid JSON: Unexpected token/);
    expect(e.mcp.message?.parse_error).not.toContain('Server starting');
    expect(e.mcp.message?.excerpt).toMatch(/^Server starting with token \[REDACTED:github_token:[0-9a-f]{8}\]/);
    expect(Buffer.byteLength(e.mcp.message?.excerpt ?? '')).toBeLessThan(64 + 40);
    expect(JSON.stringify(e)).not.toContain(secret);
  });

  it('records a frame the transport cut with its full size, a redacted excerpt and the reason', () => {
    const s = new TestSession();
    const head = Buffer.from(`{"jsonrpc":"2.0","id":1,"result":{"key":"${'-----BEGIN PRIVATE KEY-----'}\\nMIIEvQIBADANBg${'A'.repeat(3000)}`);
    const e = s.normalizer.unparsed('server_to_client', head, 20_000_000, s.now, 'frame over the 10 MB limit');
    schemaValid([e]);
    expect(e.mcp.message).toMatchObject({ kind: 'unparsed', size: 20_000_000, truncated: true, parse_error: 'frame over the 10 MB limit' });
    expect(e.mcp.message?.excerpt).toMatch(/^\{"jsonrpc":"2.0","id":1,"result":\{"key":"\[REDACTED:private_key:[0-9a-f]{8}\]/);
    expect(e.mcp.message?.excerpt).not.toContain('MIIEvQ');
    expect(e.event.sequence).toBe(0);
  });

  it('turns JSON that is not JSON-RPC into one unparsed event saying why', () => {
    const s = new TestSession();
    const cases: [string, RegExp][] = [
      ['42', /a number, not an object/],
      ['"hello"', /a string, not an object/],
      ['null', /null, not an object/],
      ['{"id":1,"method":"ping"}', /"jsonrpc" is not "2.0"/],
      ['{"jsonrpc":"1.0","id":1,"method":"ping"}', /"jsonrpc" is not "2.0"/],
      ['{"jsonrpc":"2.0","id":1}', /no "method", "result" or "error"/],
      ['{"jsonrpc":"2.0","id":null,"method":"ping"}', /request "id" is not a string or number/],
      ['{"jsonrpc":"2.0","id":{},"result":{}}', /response "id"/],
      ['{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}', /both "result" and "error"/],
      ['{"jsonrpc":"2.0","id":1,"error":"boom"}', /"error" is not an object/],
      ['{"jsonrpc":"2.0","method":7}', /"method" is not a non-empty string/],
      ['[]', /empty batch array/],
      ['', /empty frame/],
      ['   ', /empty frame/],
    ];
    for (const [frame, reason] of cases) {
      const e = s.c2s(frame);
      expect(e.mcp.message?.kind, frame).toBe('unparsed');
      expect(e.mcp.message?.parse_error, frame).toMatch(reason);
      expect(e.mcp.message?.excerpt, frame).toBe(frame);
    }
  });

  it('splits a batch array into one event per element with batch index and size', () => {
    const s = new TestSession();
    const batch = [request(1, 'tools/list'), notification('notifications/initialized'), 'junk', request(2, 'ping')];
    const events = s.frame('client_to_server', batch);
    expect(events.map((e) => e.mcp.message?.kind)).toEqual(['request', 'notification', 'unparsed', 'request']);
    expect(events.map((e) => e.mcp.message?.batch)).toEqual([0, 1, 2, 3].map((index) => ({ index, size: 4 })));
    expect(events.map((e) => e.event.sequence)).toEqual([0, 1, 2, 3]);
    expect(events.every((e) => e.mcp.message?.size === Buffer.byteLength(JSON.stringify(batch)))).toBe(true);
    expect(events[2]?.mcp.message?.excerpt).toBe('"junk"');
    const answers = s.frame('server_to_client', [response(2, {}), response(1, { tools: [] })]);
    expect(answers.map((e) => [e.event.action, e.mcp.message?.correlated])).toEqual([
      ['ping', true],
      ['tools/list', true],
    ]);
  });

  it('never throws, whatever the bytes, and always produces valid events', () => {
    const s = new TestSession();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const fragments = ['{', '}', '[', ']', '"jsonrpc":"2.0"', '"id":', '0', '"method":"tools/call"', ',', ':', '"result":', 'null', '\\u0000', '\uFFFF', '"__proto__":{}'];
    for (let i = 0; i < 500; i++) {
      const parts = Array.from({ length: 1 + Math.floor(random() * 12) }, () => fragments[Math.floor(random() * fragments.length)]);
      const frame = i % 3 === 0 ? Buffer.from(Array.from({ length: 40 }, () => Math.floor(random() * 256))) : parts.join('');
      const events = s.frame(i % 2 ? 'client_to_server' : 'server_to_client', frame);
      expect(events.length).toBeGreaterThan(0);
    }
  });

  it('keeps a "__proto__" key as data instead of changing the prototype', () => {
    const s = new TestSession();
    const e = s.c2s('{"jsonrpc":"2.0","id":1,"method":"x/y","params":{"__proto__":{"polluted":true},"a":1}}');
    expect(Object.keys(e.mcp.params ?? {})).toEqual(['__proto__', 'a']);
    expect((e.mcp.params as { polluted?: boolean }).polluted).toBeUndefined();
  });
});

describe('SessionNormalizer: correlation', () => {
  it('gives a response the method, duration and tool of its request, for id 0 and string ids', () => {
    const s = new TestSession();
    s.c2s(request(0, 'tools/call', { name: 'read_graph', arguments: {} }));
    const zero = s.s2c(response(0, { content: [{ type: 'text', text: '{}' }] }), 250);
    expect(zero.event).toMatchObject({ action: 'tools/call', duration: 250_000_000, outcome: 'success' });
    expect(zero.mcp.method).toEqual({ name: 'tools/call' });
    expect(zero.mcp.message?.correlated).toBe(true);
    expect(zero.gen_ai?.tool?.name).toBe('read_graph');
    expect(zero.jsonrpc?.request?.id).toBe('0');

    s.c2s(request('req-α', 'resources/read', { uri: 'file:///etc/hosts' }));
    const str = s.s2c(response('req-α', { contents: [] }));
    expect(str.event.action).toBe('resources/read');
    expect(str.mcp.resource?.uri).toBe('file:///etc/hosts');
    expect(str.jsonrpc?.request?.id).toBe('req-α');
  });

  it('treats 1 and "1" as different ids and only correlates across directions', () => {
    const s = new TestSession();
    s.c2s(request(1, 'tools/list'));
    s.s2c(request('1', 'roots/list'));
    expect(s.c2s(response('1', { roots: [] })).event.action).toBe('roots/list');
    expect(s.s2c(response(1, { tools: [] })).event.action).toBe('tools/list');
    s.c2s(request(5, 'ping'));
    const sameDirection = s.c2s(response(5, {}));
    expect(sameDirection.event.action).toBe('response');
    expect(s.normalizer.pendingRequests).toBe(1);
  });

  it('marks uncorrelated responses and errors', () => {
    const s = new TestSession();
    const r = s.s2c(response(77, { whatever: true }));
    expect(r.event).toMatchObject({ action: 'response', category: ['api'], type: ['info'], outcome: 'success' });
    expect(r.mcp.message).toMatchObject({ kind: 'response', correlated: false });
    expect(r.mcp.method).toBeUndefined();
    expect(r.event.duration).toBeUndefined();
    expect(r.mcp.result).toEqual({ whatever: true });
    const e = s.s2c(errorResponse(null, -32700, 'Parse error'));
    expect(e.event).toMatchObject({ action: 'error', type: ['error'], outcome: 'failure' });
    expect(e.mcp.message).toMatchObject({ kind: 'error', correlated: false });
    expect(e.jsonrpc).toEqual({ version: '2.0' });
    expect(e.error).toEqual({ code: '-32700', type: 'parse_error', message: 'Parse error' });
  });

  it('correlates errors with their request and keeps error data', () => {
    const s = new TestSession();
    s.c2s(request(3, 'tools/call', { name: 'fetch', arguments: { url: 'http://169.254.169.254/' } }));
    const e = s.s2c(errorResponse(3, -32602, 'Invalid params', { field: 'url', api_key: 'abc123' }));
    expect(e.event).toMatchObject({ action: 'tools/call', category: ['api'], type: ['error'], outcome: 'failure' });
    expect(e.mcp.message?.correlated).toBe(true);
    expect(e.gen_ai?.tool?.name).toBe('fetch');
    expect(e.error).toEqual({ code: '-32602', type: 'invalid_params', message: 'Invalid params' });
    expect(e.mcp.result).toMatchObject({ field: 'url', api_key: expect.stringMatching(/^\[REDACTED:secret:/) });
  });

  it('drops a cancelled request, so its late response is uncorrelated', () => {
    const s = new TestSession();
    s.c2s(request(9, 'tools/call', { name: 'slow', arguments: {} }));
    const cancel = s.c2s(notification('notifications/cancelled', { requestId: 9, reason: 'user aborted' }));
    expect(cancel.event).toMatchObject({ action: 'notifications/cancelled', category: ['api'], type: ['deletion'] });
    expect(cancel.mcp.cancelled_request_id).toBe('9');
    expect(cancel.mcp.params).toEqual({ requestId: 9, reason: 'user aborted' });
    expect(s.normalizer.pendingRequests).toBe(0);
    const late = s.s2c(response(9, { content: [] }));
    expect(late.mcp.message?.correlated).toBe(false);
    expect(late.event.action).toBe('response');
  });

  it('forgets the oldest requests beyond maxPending', () => {
    const s = new TestSession(stdioIdentity(), { maxPending: 2 });
    for (const id of [1, 2, 3]) s.c2s(request(id, 'ping'));
    expect(s.normalizer.pendingRequests).toBe(2);
    expect(s.s2c(response(1, {})).mcp.message?.correlated).toBe(false);
    expect(s.s2c(response(3, {})).mcp.message?.correlated).toBe(true);
  });

  it('never reports a negative duration when clocks step backwards', () => {
    const s = new TestSession();
    s.c2s(request(1, 'ping'));
    expect(s.s2c(response(1, {}), -100).event.duration).toBe(0);
  });
});

describe('SessionNormalizer: bounds', () => {
  it('cuts long strings with a marker and flags the event', () => {
    const s = new TestSession(stdioIdentity(), { maxStringBytes: 1000 });
    const e = s.s2c(notification('notifications/message', { level: 'info', data: 'é'.repeat(5000) }));
    const data = e.mcp.params?.data as string;
    expect(data).toMatch(/…\[truncated 9000 bytes\]$/);
    expect(Buffer.byteLength(data.split('…')[0] ?? '')).toBe(1000);
    expect(e.mcp.message?.truncated).toBe(true);
  });

  it('cuts a huge payload structurally under maxPayloadBytes and keeps the whole frame size', () => {
    const s = new TestSession(stdioIdentity(), { maxPayloadBytes: 20_000 });
    s.c2s(request(1, 'resources/read', { uri: 'file:///big.json' }));
    const contents = Array.from({ length: 2000 }, (_, i) => ({ uri: `file:///part/${i}`, text: 'z'.repeat(2000) }));
    const frame = JSON.stringify(response(1, { contents }));
    const e = s.s2c(frame);
    expect(e.mcp.message).toMatchObject({ size: frame.length, truncated: true });
    expect(Buffer.byteLength(JSON.stringify(e.mcp.result))).toBeLessThanOrEqual(20_000);
    const kept = e.mcp.result?.contents as unknown[];
    expect(kept.at(-1)).toMatch(/^…\[\d+ more items\]$/);
    expect(kept[0]).toMatchObject({ uri: 'file:///part/0' });
  });

  it('keeps every tool of a long tools/list by sharing the budget among them', () => {
    const s = new TestSession(stdioIdentity(), { maxPayloadBytes: 100_000 });
    s.c2s(request(1, 'tools/list'));
    const tools = Array.from({ length: 60 }, (_, i) => ({ name: `tool_${i}`, description: 'd'.repeat(5000), inputSchema: { type: 'object' } }));
    const e = s.s2c(response(1, { tools }));
    expect(e.mcp.tools).toHaveLength(60);
    expect(e.mcp.message?.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(e.mcp.tools))).toBeLessThanOrEqual(100_000);
  });

  it('bounds identifiers too: names, ids and tokens', () => {
    const s = new TestSession(stdioIdentity(), { maxStringBytes: 1000 });
    const long = 'n'.repeat(200_000);
    const e = s.c2s(request(long, 'tools/call', { name: long, arguments: {}, _meta: { progressToken: long } }));
    expect(e.mcp.message?.truncated).toBe(true);
    expect(e.gen_ai?.tool?.name).toMatch(/^n{1000}…\[truncated 199000 bytes\]$/);
    expect(e.jsonrpc?.request?.id).toBe(e.gen_ai?.tool?.name);
    expect(e.mcp.progress_token).toBe(e.gen_ai?.tool?.name);
    expect(JSON.stringify(e).length).toBeLessThan(10_000);
  });

  it('drops an object field rather than break its type when even its smallest form does not fit', () => {
    const s = new TestSession(stdioIdentity(), { maxPayloadBytes: 300 });
    s.c2s(request(1, 'initialize', { protocolVersion: '2025-06-18', clientInfo: { name: 'c', version: '1' }, capabilities: {} }));
    let deep: object = { leaf: true };
    for (let i = 0; i < 30; i++) deep = { [`level_${i}_${'k'.repeat(150)}`]: deep };
    const e = s.s2c(response(1, { protocolVersion: '2025-06-18', serverInfo: { name: 's', version: '1' }, capabilities: deep }));
    expect(e.mcp.capabilities).toBeUndefined();
    expect(e.mcp.message?.truncated).toBe(true);
  });

  it('survives nesting deeper than JSON.stringify can handle', () => {
    const s = new TestSession();
    const deep = `{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}}`;
    const e = s.c2s(deep);
    expect(e.mcp.message).toMatchObject({ kind: 'request', truncated: true });
    expect(JSON.stringify(e.mcp.params)).toContain('nesting deeper than 64 levels removed');
  });

  it('redacts with the session redactor: another key gives other placeholders', () => {
    const a = new TestSession();
    const b = new TestSession(stdioIdentity(), { redactor: new Redactor('another-key') });
    const msg = request(1, 'x/y', { password: 'hunter2' });
    const pa = a.c2s(msg).mcp.params?.password;
    const pb = b.c2s(msg).mcp.params?.password;
    expect(pa).toMatch(/^\[REDACTED:secret:[0-9a-f]{8}\]$/);
    expect(pb).toMatch(/^\[REDACTED:secret:[0-9a-f]{8}\]$/);
    expect(pa).not.toBe(pb);
  });
});
