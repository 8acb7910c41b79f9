/** Shared pieces of the benchmarks: percentiles, machine facts, and BENCHMARKS.md section updates. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../pipeline/packagePaths.js';

/** The p-th percentile (0–100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** One line naming the machine and runtime the figures come from. */
export function machineLine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

/**
 * Replaces (or appends) the section `id` of BENCHMARKS.md, leaving other benchmarks' sections alone.
 * Everything between `<!-- bench:id -->` and `<!-- /bench:id -->` is replaced whole, so hand-written notes about a run
 * (profiles, what changed, before/after tables) belong after the end marker, where the next run leaves them.
 */
export function writeSection(id: string, markdown: string): void {
  const file = join(packageRoot(), 'BENCHMARKS.md');
  const begin = `<!-- bench:${id} -->`;
  const end = `<!-- /bench:${id} -->`;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nWritten by `npm run bench`. Every figure is compared with a baseline measured in the same run, on the machine named in its section.\n';
  const at = doc.indexOf(begin);
  doc = at === -1 ? `${doc.trimEnd()}\n\n${block}\n` : `${doc.slice(0, at)}${block}${doc.slice(doc.indexOf(end) + end.length)}`;
  writeFileSync(file, doc);
}

/** Formats a number with thousands separators and `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
