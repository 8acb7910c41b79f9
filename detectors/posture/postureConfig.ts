/**
 * Settings of the protocol posture detectors: how often a standing finding is raised again, what an
 * unparsed-frame storm is, and the caps that bound their state. Durations are milliseconds of event time.
 */
import { z } from 'zod';
import { positiveInt } from '../detectorSettings.js';


export const PostureConfigSchema = z
  .object({
    /** A finding already alerted for a server (same kind and detail) alerts again only after this long. */
    repeatAfterMs: positiveInt(24 * 3_600_000),
    /** Unparsed frames within unparsedWindowMs in one session that make a storm. */
    unparsedThreshold: z.number().int().min(2).max(1000).default(20),
    unparsedWindowMs: positiveInt(60_000),
    sessionIdleMs: positiveInt(3_600_000),
    maxFindingsPerServer: positiveInt(256),
    maxSessionsPerServer: positiveInt(1000),
  })
  .strict();

export type PostureConfig = z.infer<typeof PostureConfigSchema>;
