/**
 * The one shape of every --json output: ECS-style snake_case field names and ISO-8601 times. Events and alerts are
 * stored as ECS documents already; the CLI's own views (sessions, servers, tools, status) go through jsonShape.
 */

/** Fields holding epoch milliseconds in the store's summaries, written as ISO times. */
const EPOCH_MS_FIELDS = new Set(['firstSeen', 'lastSeen', 'lastEvent', 'oldest', 'newest']);

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `value` with snake_case keys and epoch-millisecond times as ISO strings, recursively. */
export function jsonShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonShape);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [snake(key), EPOCH_MS_FIELDS.has(key) && typeof field === 'number' ? new Date(field).toISOString() : jsonShape(field)]),
  );
}
