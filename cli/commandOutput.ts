/** The CLI's output: plain-text tables for people, NDJSON for machines (every --json flag). */

/** Renders rows under headers, padding columns and cutting cells to `maxCell` characters. */
export function renderTable(headers: string[], rows: (string | number | undefined)[][], maxCell = 60): string {
  const cells = rows.map((row) => row.map((cell) => clip(cell === undefined ? '' : String(cell), maxCell)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]): string => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A short local-time rendering of an epoch-ms instant. */
export function shortTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}

/**
 * A lone surrogate (from a `\ud800` escape on the wire) escaped by JSON.stringify: stringify writes paired
 * surrogates as the character itself, so every `\udXXX` escape it writes (not itself after an escaped
 * backslash) is a lone one.
 */
const LONE_SURROGATE_ESCAPE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

/** JSON text of `item` that strict readers (jq) accept: lone surrogates become U+FFFD. */
export function wellFormedJson(item: unknown): string {
  return JSON.stringify(item).replace(LONE_SURROGATE_ESCAPE, '$1\\ufffd');
}

/** Writes items as NDJSON on stdout. */
export function writeJsonLines(items: readonly unknown[]): void {
  for (const item of items) process.stdout.write(`${wellFormedJson(item)}\n`);
}

/**
 * Says that a list was cut at --limit: under the table for people; on stderr with --json, so the NDJSON on stdout
 * stays one document per line.
 */
export function writeLimitNotice(text: string, json: boolean): void {
  if (json) process.stderr.write(`${text}\n`);
  else process.stdout.write(`(${text})\n`);
}
