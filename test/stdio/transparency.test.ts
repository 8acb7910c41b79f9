import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkEvent } from '../../pipeline/schemaValidator.js';
import { busEvents, FIXTURES, runCli, tempHome } from '../support/tapwireCli.js';

const RAW_SERVER = join(FIXTURES, 'rawServer.mjs');

describe('the tap is transparent to bad input', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('passes random bytes, invalid UTF-8, a 20 MB line and an unterminated last line through byte for byte', async () => {
    const request = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ok"}}}\n';
    const response = '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}\r\n';
    const hugeLine = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"'), Buffer.alloc(20 * 1024 * 1024, 'x'), Buffer.from('"}}\n')]);
    const random = randomBytes(300_000);
    const invalidUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d, 0x0a]);
    const output = Buffer.concat([Buffer.from(response), random, Buffer.from('\n'), invalidUtf8, hugeLine, Buffer.from('not json at all\n'), Buffer.from('{"jsonrpc":"2.0","id":2,"result":{}}')]);
    const input = Buffer.concat([Buffer.from(request), invalidUtf8, randomBytes(100_000), Buffer.from('\n{"unterminated": true')]);
    const outputFile = join(home, 'server-output.bin');
    const inputCopy = join(home, 'server-input.bin');
    writeFileSync(outputFile, output);

    // 4,093-byte server writes split lines (and multi-byte sequences) across chunks. The ring holds the
    // whole exchange, so observation cannot shed any of it however slowly the observer is scheduled.
    const result = await runCli(['tap', '--name', 'raw', '--home', home, '--', process.execPath, RAW_SERVER, inputCopy, outputFile, '4093', '0'], {
      input,
      timeoutMs: 120_000,
      env: { TAPWIRE_TAP_RING_BYTES: String(64 << 20) },
    });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.equals(output)).toBe(true);
    expect(readFileSync(inputCopy).equals(input)).toBe(true);

    const events = await busEvents(home);
    for (const event of events) expect(checkEvent(event).errors).toEqual([]);
    const fromServer = events.filter((e) => e.mcp.direction === 'server_to_client');
    const fromHost = events.filter((e) => e.mcp.direction === 'client_to_server');
    expect(fromHost[0]?.event.action).toBe('tools/call');
    expect(fromHost.filter((e) => e.mcp.message?.kind === 'unparsed').length).toBeGreaterThanOrEqual(2);
    expect(fromHost.at(-1)?.mcp.message?.excerpt).toContain('unterminated');

    expect(fromServer[0]).toMatchObject({ event: { action: 'tools/call' }, mcp: { message: { kind: 'response', correlated: true } } });
    const huge = fromServer.find((e) => (e.mcp.message?.size ?? 0) > 20 * 1024 * 1024)!;
    expect(huge.mcp.message?.kind).toBe('unparsed');
    expect(huge.mcp.message?.excerpt?.length).toBeLessThanOrEqual(4096);
    expect(fromServer.some((e) => e.mcp.message?.excerpt?.includes('not json at all'))).toBe(true);
    expect(fromServer.at(-1)).toMatchObject({ mcp: { message: { kind: 'response' } }, jsonrpc: { request: { id: '2' } } });
    const end = events.at(-1)!;
    expect(end.event.action).toBe('session.end');
    expect(end.mcp.tap?.bytes?.server_to_client).toBe(output.length);
    expect(end.mcp.tap?.bytes?.client_to_server).toBe(input.length);
  });

  it('reassembles a JSON-RPC line written a few bytes at a time', async () => {
    const line = '{"jsonrpc":"2.0","id":"é-7","result":{"tools":[{"name":"split","description":"written in pieces — ünïcödé","inputSchema":{"type":"object"}}]}}\n';
    const outputFile = join(home, 'split.bin');
    writeFileSync(outputFile, line);
    const splitHome = join(home, 'split-home');
    const result = await runCli(['tap', '--home', splitHome, '--', process.execPath, RAW_SERVER, join(home, 'split-in.bin'), outputFile, '3'], { input: '' });
    expect(result.stdout.toString()).toBe(line);
    const response = (await busEvents(splitHome)).find((e) => e.mcp.message?.kind === 'response')!;
    expect(response.jsonrpc?.request?.id).toBe('é-7');
    expect(JSON.stringify(response)).toContain('ünïcödé');
  });
});
