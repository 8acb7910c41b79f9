import { describe, expect, it } from 'vitest';
import { LegacyEndpointRewriter } from '../../collectors/http/legacyEndpointRewriter.js';
import { SseParser, type SseEvent } from '../../collectors/http/sseParser.js';

function parse(chunks: (string | Buffer)[], maxEventBytes?: number): { events: SseEvent[]; tail: ReturnType<SseParser['end']> } {
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event), maxEventBytes);
  for (const chunk of chunks) parser.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return { events, tail: parser.end() };
}

describe('SseParser', () => {
  it('parses the SDK framing: type, id, data, priming events and retry', () => {
    const { events } = parse(['id: s1_0\nretry: 250\ndata: \n\n', 'event: message\nid: s1_1\ndata: {"a":1}\n\n']);
    expect(events).toEqual([
      { type: 'message', data: '', id: 's1_0', retry: 250, bytes: 28, oversized: false },
      { type: 'message', data: '{"a":1}', id: 's1_1', retry: undefined, bytes: 39, oversized: false },
    ]);
  });

  it('assembles events split anywhere, across CR, LF and CRLF line ends, a BOM and multi-byte characters', () => {
    const whole = Buffer.from('\uFEFFdata: first line\r\ndata: zweite Zeile ü\r\rdata: x\n\n: comment\n\nevent: endpoint\r\ndata: /m?s=1\r\n\r\n');
    for (let cut = 1; cut < whole.length; cut++) {
      const { events } = parse([whole.subarray(0, cut), whole.subarray(cut)]);
      expect(events.map((e) => [e.type, e.data])).toEqual([
        ['message', 'first line\nzweite Zeile ü'],
        ['message', 'x'],
        ['endpoint', '/m?s=1'],
      ]);
    }
  });

  it('ignores comments and fields it does not know, and ids with NUL', () => {
    const { events } = parse([': keepalive\n\nfoo: bar\nid: a\u0000b\ndata\n\n']);
    expect(events).toEqual([{ type: 'message', data: '', id: undefined, retry: undefined, bytes: 23, oversized: false }]);
  });

  it('reports a stream that ends inside an event, and not one that ends between events', () => {
    expect(parse(['data: {"whole":true}\n\ndata: {"cut']).tail).toMatchObject({ truncated: true, excerpt: 'data: {"cut' });
    expect(parse(['data: a\ndata: b\n']).tail).toMatchObject({ truncated: true, excerpt: 'a\nb' });
    expect(parse(['data: {"whole":true}\n\n: bye\n']).tail.truncated).toBe(false);
  });

  it('bounds what one event may hold, keeping its first part and its full size', () => {
    const big = `data: ${'z'.repeat(5000)}\n\n`;
    const { events } = parse([big, 'data: small\n\n'], 1000);
    expect(events[0]).toMatchObject({ oversized: true, bytes: big.length });
    expect(events[0]!.data.length).toBeLessThanOrEqual(64 * 1024);
    expect(events[1]).toMatchObject({ data: 'small', oversized: false });
  });
});

async function rewrite(chunks: string[], map: (endpoint: string) => string | undefined): Promise<{ out: string; seen: [string, string | undefined][] }> {
  const seen: [string, string | undefined][] = [];
  const rewriter = new LegacyEndpointRewriter(map, (upstream, rewritten) => seen.push([upstream, rewritten]));
  const out: Buffer[] = [];
  rewriter.on('data', (chunk: Buffer) => out.push(chunk));
  for (const chunk of chunks) rewriter.write(Buffer.from(chunk));
  rewriter.end();
  await new Promise((resolve) => rewriter.on('end', resolve));
  return { out: Buffer.concat(out).toString(), seen };
}

describe('LegacyEndpointRewriter', () => {
  it('rewrites a leading endpoint event, even split across chunks, and passes the rest untouched', async () => {
    const { out, seen } = await rewrite([': hi\n\nevent: endp', 'oint\ndata: /messages?sessionId=abc\n\nevent: message\ndata: {"x":1}\n\n', 'data: 2\n\n'], (e) => `/legacy${e}`);
    expect(out).toBe('event: endpoint\ndata: /legacy/messages?sessionId=abc\n\nevent: message\ndata: {"x":1}\n\ndata: 2\n\n');
    expect(seen).toEqual([['/messages?sessionId=abc', '/legacy/messages?sessionId=abc']]);
  });

  it('leaves streams that do not start with an endpoint event, and endpoints it cannot map, as they were', async () => {
    const stream = 'id: p_0\ndata: \n\nevent: endpoint\ndata: /late\n\n';
    expect((await rewrite([stream], (e) => `/x${e}`)).out).toBe(stream);
    const unmapped = await rewrite(['event: endpoint\ndata: https://elsewhere/messages\n\n'], () => undefined);
    expect(unmapped.out).toBe('event: endpoint\ndata: https://elsewhere/messages\n\n');
    expect(unmapped.seen).toEqual([['https://elsewhere/messages', undefined]]);
  });
});
