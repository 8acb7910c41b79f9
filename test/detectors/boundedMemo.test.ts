/** The two-generation memo behind the cross-event caches (detectors/boundedMemo.ts): answers kept, memory bounded. */
import { describe, expect, it } from 'vitest';
import { BoundedMemo } from '../../detectors/boundedMemo.js';

describe('BoundedMemo', () => {
  it('computes a key once while it stays in use, and forgets keys not asked for two generations', () => {
    const computed: string[] = [];
    const memo = new BoundedMemo<string>(3);
    const ask = (key: string): string => memo.get(key, (k) => (computed.push(k), k.toUpperCase()));
    expect(['a', 'b', 'a', 'c', 'a'].map(ask)).toEqual(['A', 'B', 'A', 'C', 'A']);
    expect(computed).toEqual(['a', 'b', 'c']);
    // 'd' fills the first generation: it becomes the previous one; 'a' asked again moves to the current one.
    ask('d');
    ask('e');
    ask('a');
    expect(computed).toEqual(['a', 'b', 'c', 'd', 'e']);
    // Two more generations without 'b': it is gone and computed again.
    for (const key of ['f', 'g', 'h', 'i', 'j', 'k']) ask(key);
    ask('b');
    expect(computed.filter((k) => k === 'b')).toHaveLength(2);
  });

  it('charges entries by their cost, so one generation never holds more than the budget', () => {
    let computations = 0;
    const memo = new BoundedMemo<number>(10, (key) => key.length);
    const ask = (key: string): number => memo.get(key, (k) => (computations++, k.length));
    ask('xxxxxx');
    ask('yyyyyy'); // 12 > 10: a new generation; 'xxxxxx' is in the previous one
    ask('zzzzzz'); // again: 'xxxxxx' is dropped with the old previous generation
    ask('xxxxxx');
    expect(computations).toBe(4);
  });
});
