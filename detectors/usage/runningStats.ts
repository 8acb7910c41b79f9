/**
 * Mean, spread and maximum of a stream of numbers in constant space (Welford's online algorithm), the
 * form every numeric usage baseline takes: calls per bucket, result bytes, argument lengths.
 */

/** Count, mean, sum of squared deviations (m2) and maximum of the samples so far. */
export interface RunningStats {
  n: number;
  mean: number;
  m2: number;
  max: number;
}

/** Stats of no samples. */
export function emptyStats(): RunningStats {
  return { n: 0, mean: 0, m2: 0, max: 0 };
}

/** The stats with one more sample. */
export function addSample(stats: RunningStats, x: number): RunningStats {
  const n = stats.n + 1;
  const delta = x - stats.mean;
  const mean = stats.mean + delta / n;
  return { n, mean, m2: stats.m2 + delta * (x - mean), max: n === 1 ? x : Math.max(stats.max, x) };
}

/** The stats with `count` more samples of zero (idle buckets), merged in one step (Chan et al.). */
export function addZeros(stats: RunningStats, count: number): RunningStats {
  if (count <= 0) return stats;
  const n = stats.n + count;
  return { n, mean: (stats.mean * stats.n) / n, m2: stats.m2 + (stats.mean * stats.mean * stats.n * count) / n, max: stats.n === 0 ? 0 : Math.max(stats.max, 0) };
}

/** Population standard deviation (0 for fewer than two samples). */
export function standardDeviation(stats: RunningStats): number {
  return stats.n < 2 ? 0 : Math.sqrt(Math.max(0, stats.m2) / stats.n);
}

/** A number rounded for an alert's message and details. */
export function rounded(x: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(x * scale) / scale;
}
