/**
 * Settings of the out-of-pattern usage detectors: the learning period, the thresholds each baseline is
 * judged by, and the caps that bound their state. Durations are milliseconds of event time.
 */
import { z } from 'zod';
import { positiveInt } from '../detectorSettings.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const positive = (fallback: number) => z.number().positive().default(fallback);

export const UsageConfigSchema = z
  .object({
    /** How long after a server (or principal) is first seen its baselines only learn. */
    learningPeriodMs: positiveInt(7 * DAY),
    /** Length of a call-rate bucket. */
    rateBucketMs: positiveInt(MINUTE),
    minSpikeCalls: positiveInt(20),
    spikeFactor: positive(3),
    minRateBuckets: positiveInt(30),
    /** Samples a numeric baseline (result sizes, argument lengths, calls per hour of day) needs before it judges. */
    minSamples: positiveInt(20),
    /** Calls a tool's baseline needs, besides a full learning period, before its argument shapes are judged. */
    minShapeCalls: positiveInt(5),
    oversizeFactor: positive(4),
    minOversizedBytes: positiveInt(64 * 1024),
    longArgumentFactor: positive(4),
    minLongArgumentChars: positiveInt(1024),
    errorWindowMs: positiveInt(HOUR),
    minErrorWindowCalls: positiveInt(10),
    /** A window's error rate must reach this and errorRateFactor × the baseline rate. */
    errorRateFloor: z.number().min(0).max(1).default(0.5),
    errorRateFactor: positive(3),
    /** Directories of a path that make its root: 2 turns /home/alice/x/y.txt into /home/alice. */
    pathRootDepth: positiveInt(2),
    /** Longest call sequence remembered per session (2 = pairs, 3 = pairs and triples). */
    sequenceLength: z.number().int().min(2).max(5).default(3),
    sessionIdleMs: positiveInt(HOUR),
    /** How often ticks fold closed buckets into a server's baselines and forget idle sessions (calls fold lazily too). */
    rollUpIntervalMs: positiveInt(HOUR),
    /** The principals' clock for time-of-day baselines, in minutes east of UTC. */
    utcOffsetMinutes: z.number().int().min(-14 * 60).max(14 * 60).default(0),
    /** Neighbouring hours on each side that also count as usual. */
    offHoursTolerance: z.number().int().min(0).max(11).default(1),
    /** A repeated anomaly (spikes, oversized results, long arguments, error rates) alerts at most once per tool in this time. */
    alertCooldownMs: positiveInt(HOUR),
    maxToolsPerServer: positiveInt(256),
    maxValuesPerSet: positiveInt(256),
    maxLengthKeys: positiveInt(64),
    maxSessionsPerServer: positiveInt(1000),
    maxSequencesPerServer: positiveInt(4096),
    maxPrincipalsPerServer: positiveInt(1000),
  })
  .strict();

export type UsageConfig = z.infer<typeof UsageConfigSchema>;
