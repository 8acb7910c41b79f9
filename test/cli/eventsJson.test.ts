import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempHome } from '../support/tapwireCli.js';

describe('tapwire events --json', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('writes valid UTF-8 JSON, even for lone surrogates escaped on the wire', async () => {
    // \ud800 and \ud83d open a pair that never closes; \udc00 closes one that never opened; the emoji is a real pair.
    const request = String.raw`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x\ud800","arguments":{"a":"\udc00b\ud83d","k\udfff":"\ud83d\ude00","path":"C:\\ud800"}}}` + '\n';
    const tap = await runCli(['tap', '--home', home, '--', process.execPath, join(FIXTURES, 'echoServer.mjs')], { input: request });
    expect(tap.code).toBe(0);
    const out = await runCli(['events', '--json', '--home', home]);
    expect(out.code, out.stderr).toBe(0);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(out.stdout);
    const lines = text.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const strings: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') strings.push(value);
      else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) strings.push(k), collect(v);
    };
    for (const line of lines) collect(JSON.parse(line));
    // A lone surrogate would not survive a UTF-8 round trip unchanged.
    expect(strings.filter((s) => Buffer.from(s).toString() !== s)).toEqual([]);
    const call = lines.map((l) => JSON.parse(l)).find((e) => e.event.action === 'tools/call' && e.mcp.message.kind === 'request');
    expect(call.gen_ai.tool.name).toBe('x\ufffd');
    expect(call.gen_ai.tool.call.arguments).toEqual({ a: '\ufffdb\ufffd', 'k\ufffd': '\u{1f600}', path: 'C:\\ud800' });
  });
});
