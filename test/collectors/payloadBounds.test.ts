import { describe, expect, it } from 'vitest';
import { boundEach, boundPayload, boundString, capNesting, jsonBytes, MAX_NESTING } from '../../collectors/payloadBounds.js';

describe('boundString', () => {
  it('leaves short strings alone and cuts long ones on a character boundary with a marker', () => {
    expect(boundString('abc', 3)).toEqual({ value: 'abc', truncated: false });
    expect(boundString('€€€', 7)).toEqual({ value: '€€…[truncated 3 bytes]', truncated: true });
    expect(boundString('a😀b', 3)).toEqual({ value: 'a…[truncated 5 bytes]', truncated: true });
  });
});

describe('capNesting', () => {
  it('returns a shallow value itself, and replaces what is nested too deep', () => {
    const shallow = { a: [1, { b: 2 }] };
    expect(capNesting(shallow).value).toBe(shallow);
    let deep: unknown = 'leaf';
    for (let i = 0; i < MAX_NESTING + 10; i++) deep = [deep];
    const capped = capNesting(deep);
    expect(capped.truncated).toBe(true);
    expect(JSON.stringify(capped.value)).toContain(`nesting deeper than ${MAX_NESTING} levels removed`);
    expect(JSON.stringify(capped.value)).not.toContain('leaf');
  });
});

describe('boundPayload', () => {
  const limits = { maxStringBytes: 100, maxPayloadBytes: 2000 };

  it('copies a value that fits unchanged', () => {
    const v = { a: [1, 2, 3], b: 'short' };
    expect(boundPayload(v, limits)).toEqual({ value: v, truncated: false });
  });

  it('cuts long strings, keys included, to maxStringBytes', () => {
    const out = boundPayload({ ['k'.repeat(300)]: 'v'.repeat(300) }, limits);
    expect(out.truncated).toBe(true);
    const [[k, v]] = Object.entries(out.value as object) as [[string, string]];
    expect(k).toMatch(/^k{100}…\[truncated 200 bytes\]$/);
    expect(v).toMatch(/^v{100}…\[truncated 200 bytes\]$/);
  });

  it('fits a payload under maxPayloadBytes by shortening arrays and objects, saying how much went', () => {
    const v = { rows: Array.from({ length: 500 }, (_, i) => ({ id: i, name: `row ${i}` })), wide: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])) };
    const out = boundPayload(v, limits);
    expect(out.truncated).toBe(true);
    expect(jsonBytes(out.value)).toBeLessThanOrEqual(2000);
    const value = out.value as { rows: unknown[]; wide: Record<string, unknown> };
    expect(value.rows[0]).toEqual({ id: 0, name: 'row 0' });
    expect(value.rows.at(-1)).toMatch(/^…\[\d+ more items\]$/);
    expect(value.wide['…']).toMatch(/^\[\d+ more keys\]$/);
  });

  it('replaces a value that cannot fit with a marker', () => {
    let nested: unknown = 'x'.repeat(200);
    for (let i = 0; i < 40; i++) nested = { ['key'.repeat(40)]: nested };
    const out = boundPayload(nested, { maxStringBytes: 1000, maxPayloadBytes: 500 });
    expect(out).toEqual({ value: expect.stringMatching(/^\[payload of \d+ bytes over the 500-byte limit removed\]$/), truncated: true });
  });
});

describe('boundEach', () => {
  const build = (item: unknown, l: { maxStringBytes: number; maxPayloadBytes: number }) => {
    const { name, body } = item as { name: string; body: string };
    const cut = boundString(body, Math.min(l.maxStringBytes, l.maxPayloadBytes));
    return { value: { name, body: cut.value }, truncated: cut.truncated };
  };

  it('keeps every item whole when the list fits', () => {
    const items = [{ name: 'a', body: 'x'.repeat(50) }];
    expect(boundEach(items, { maxStringBytes: 100, maxPayloadBytes: 1000 }, build)).toEqual({ value: items, truncated: false });
  });

  it('shares the budget so every item stays, then cuts the list only when even small shares do not fit', () => {
    const items = Array.from({ length: 20 }, (_, i) => ({ name: `t${i}`, body: 'x'.repeat(5000) }));
    const shared = boundEach(items, { maxStringBytes: 65536, maxPayloadBytes: 20_000 }, build);
    expect(shared.value).toHaveLength(20);
    expect(shared.truncated).toBe(true);
    expect(jsonBytes(shared.value)).toBeLessThanOrEqual(20_000);
    const cut = boundEach(items, { maxStringBytes: 65536, maxPayloadBytes: 2_000 }, build);
    expect(cut.value.length).toBeGreaterThan(0);
    expect(cut.value.length).toBeLessThan(20);
    expect(jsonBytes(cut.value)).toBeLessThanOrEqual(2_000);
  });
});
