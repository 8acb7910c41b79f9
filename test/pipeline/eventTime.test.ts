import { describe, expect, it } from 'vitest';
import { eventTimeOf, isoTimestamp } from '../../pipeline/eventTime.js';

describe('event time to the microsecond', () => {
  it('writes the microseconds a tap dated a chunk with', () => {
    expect(isoTimestamp(Date.UTC(2026, 11, 5, 6, 10, 46, 35) + 0.412)).toBe('2026-12-05T06:10:46.035412Z');
    expect(isoTimestamp(Date.UTC(2026, 11, 5, 6, 10, 46, 35))).toBe('2026-12-05T06:10:46.035000Z');
    // A fraction that rounds up to the next millisecond stays in its own: the millisecond is what Elasticsearch keeps.
    expect(isoTimestamp(Date.UTC(2026, 11, 5, 6, 10, 46, 35) + 0.9996)).toBe('2026-12-05T06:10:46.035999Z');
  });

  it('reads back the microseconds of any ISO-8601 date, as a fraction of a millisecond', () => {
    const ms = Date.UTC(2026, 11, 5, 6, 10, 46, 35);
    expect(eventTimeOf('2026-12-05T06:10:46.035412Z')).toBeCloseTo(ms + 0.412, 6);
    expect(eventTimeOf('2026-12-05T06:10:46.035412789Z')).toBeCloseTo(ms + 0.412, 6);
    expect(eventTimeOf('2026-12-05T06:10:46.0354Z')).toBeCloseTo(ms + 0.4, 6);
    expect(eventTimeOf('2026-12-05T06:10:46.03541Z')).toBeCloseTo(ms + 0.41, 6);
    expect(eventTimeOf('2026-12-05T07:10:46.035412+01:00')).toBeCloseTo(ms + 0.412, 6);
    // Dates written before @timestamp had microseconds, and transcripts' own, read as before.
    expect(eventTimeOf('2026-12-05T06:10:46.035Z')).toBe(ms);
    expect(eventTimeOf('2026-12-05T06:10:46Z')).toBe(ms - 35);
    expect(eventTimeOf('not a date')).toBeNaN();
  });

  it('orders two events of one millisecond by their microseconds', () => {
    const note = isoTimestamp(Date.UTC(2026, 11, 5, 6, 10, 46, 35) + 0.2);
    const call = isoTimestamp(Date.UTC(2026, 11, 5, 6, 10, 46, 35) + 0.7);
    expect(Date.parse(note)).toBe(Date.parse(call));
    expect(eventTimeOf(note)).toBeLessThan(eventTimeOf(call));
  });
});
