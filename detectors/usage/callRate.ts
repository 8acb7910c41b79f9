/**
 * Calls per fixed event-time bucket, with the finished buckets folded into a baseline. Idle buckets
 * count as zeros, so a tool used in rare bursts has a low mean and a high maximum; a bucket that
 * raised a spike alert stays out of the baseline, so a sustained flood does not teach itself normal.
 */
import { addSample, addZeros, emptyStats, rounded, standardDeviation, type RunningStats } from './runningStats.js';

/** The open bucket and the baseline of the closed ones. */
export interface CallRate {
  /** Index of the open bucket: floor(event time / bucket length). */
  bucket: number;
  count: number;
  /** Whether the open bucket already raised a spike alert. */
  alerted: boolean;
  history: RunningStats;
}

/** How a spike is told from a busy moment. */
export interface SpikeSettings {
  bucketMs: number;
  /** Fewer calls than this in a bucket never count as a spike. */
  minSpikeCalls: number;
  /** The threshold is this many times the larger of the baseline maximum and mean + 3σ. */
  spikeFactor: number;
  /** Closed buckets the baseline needs before spikes are judged. */
  minRateBuckets: number;
}

/** A spike: the bucket's count against the threshold and the baseline it came from. */
export interface SpikeFinding {
  observed: number;
  threshold: number;
  bucket_ms: number;
  baseline_max: number;
  baseline_mean: number;
  baseline_buckets: number;
  /** observed / max(baseline max, 1). */
  ratio: number;
}

/** A rate whose first bucket holds `now`. */
export function startRate(now: number, bucketMs: number): CallRate {
  return { bucket: Math.floor(now / bucketMs), count: 0, alerted: false, history: emptyStats() };
}

/** The rate with every bucket that ended by `now` folded into the baseline (idle ones as zeros). */
export function rollRate(rate: CallRate, now: number, bucketMs: number): CallRate {
  const bucket = Math.floor(now / bucketMs);
  if (bucket <= rate.bucket) return rate;
  const closed = rate.alerted ? rate.history : addSample(rate.history, rate.count);
  return { bucket, count: 0, alerted: false, history: addZeros(closed, bucket - rate.bucket - 1) };
}

/** The rate with one call at `now` (late events count in the open bucket). */
export function countCall(rate: CallRate, now: number, bucketMs: number): CallRate {
  const rolled = rollRate(rate, now, bucketMs);
  return { ...rolled, count: rolled.count + 1 };
}

/** The spike the open bucket shows, if it is one and has not been reported. */
export function spikeOf(rate: CallRate, settings: SpikeSettings): SpikeFinding | undefined {
  const { history } = rate;
  if (rate.alerted || history.n < settings.minRateBuckets) return undefined;
  const expected = Math.max(history.max, history.mean + 3 * standardDeviation(history));
  const threshold = Math.max(settings.minSpikeCalls, Math.ceil(settings.spikeFactor * expected));
  if (rate.count < threshold) return undefined;
  return {
    observed: rate.count,
    threshold,
    bucket_ms: settings.bucketMs,
    baseline_max: history.max,
    baseline_mean: rounded(history.mean, 3),
    baseline_buckets: history.n,
    ratio: rounded(rate.count / Math.max(history.max, 1)),
  };
}
