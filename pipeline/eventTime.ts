/**
 * Event time to the microsecond. Each tap dates a chunk when it arrives, before forwarding it, so across taps the
 * dates follow cause and effect: the note the host read through one tap is dated before the call it made with it
 * through another. Two taps often date those within one millisecond, and at whole milliseconds the reorder buffer
 * could only break the tie by bus order, which a tap that hands its session off late reverses. `@timestamp`
 * therefore carries microseconds (docs/ARCHITECTURE.md, the MCP event contract): ECS dates allow up to nanoseconds,
 * and Elasticsearch's `date` keeps the milliseconds of it.
 */

/** ISO-8601 UTC with microseconds (2026-12-05T06:10:46.035412Z) of `ms`, a time in milliseconds since the epoch. */
export function isoTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.min(999, Math.round((ms - whole) * 1000));
  return `${new Date(whole).toISOString().slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

const DIGIT_0 = 48;

/**
 * Milliseconds since the epoch of an ISO-8601 date, with the microseconds it states as a fraction (Date.parse stops
 * at milliseconds); NaN when it is not a date.
 */
export function eventTimeOf(iso: string): number {
  const ms = Date.parse(iso);
  // The fraction of the seconds starts after "YYYY-MM-DDTHH:MM:SS."; its digits 4 to 6 are the microseconds.
  if (Number.isNaN(ms) || iso.charCodeAt(19) !== 46) return ms;
  let micros = 0;
  for (let at = 23; at < 26; at += 1) {
    const digit = iso.charCodeAt(at) - DIGIT_0;
    if (!(digit >= 0 && digit <= 9)) break;
    micros += digit * 10 ** (25 - at);
  }
  return ms + micros / 1000;
}
