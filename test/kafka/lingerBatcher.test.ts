/** The producer's linger batching: requests stay under the byte cap, in order, whatever the callers publish. */
import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../pipeline/bus.js';
import { MAX_REQUEST_BYTES } from '../../pipeline/kafka/kafkaBus.js';
import { LingerBatcher, recordBytes } from '../../pipeline/kafka/lingerBatcher.js';

describe('LingerBatcher', () => {
  it('cuts requests at the byte cap, keeping every record once and in order', async () => {
    const requests: OutgoingRecord[][] = [];
    const batcher = new LingerBatcher(async (byTopic) => void requests.push([...byTopic.values()].flat()), 5, 5000, MAX_REQUEST_BYTES);
    const record = (i: number): OutgoingRecord => ({ key: 'k', value: `${String(i).padStart(3, '0')}${'x'.repeat(199_996)}` });
    // One publish of 12 × 200 kB (2.4 MB), then three single ones: no request may exceed 900 kB.
    await Promise.all([batcher.add('t', Array.from({ length: 12 }, (_, i) => record(i))), batcher.add('t', [record(12)]), batcher.add('t', [record(13)]), batcher.add('t', [record(14)])]);
    await batcher.drain();
    for (const request of requests) expect(request.reduce((sum, r) => sum + recordBytes(r), 0)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(requests.flat().map((r) => r.value.slice(0, 3))).toEqual(Array.from({ length: 15 }, (_, i) => String(i).padStart(3, '0')));
  });
});
