/** Parses time options such as --since 15m, --since 2d or --since 2026-11-21T10:00:00Z. */
import { UsageError } from './usage.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An epoch-ms instant from a relative duration (before `now`) or an absolute ISO time. */
export function parseTimeSpec(value: string, option: string, now = Date.now()): number {
  const relative = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value.trim());
  if (relative) return now - Number(relative[1]) * UNIT_MS[relative[2]!]!;
  const absolute = Date.parse(value);
  if (!Number.isNaN(absolute) && /^\d{4}-\d{2}-\d{2}/.test(value)) return absolute;
  throw new UsageError(`${option}: expected a duration like 30s, 15m, 1h, 7d or an ISO time, got '${value}'`);
}
