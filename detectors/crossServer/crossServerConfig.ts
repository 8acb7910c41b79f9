/**
 * Settings of the cross-server detector: how long and how much returned content a host session
 * remembers, the evidence a flow needs before it alerts, and the caps that bound the state.
 * Durations are milliseconds of event time.
 */
import { z } from 'zod';
import { positiveInt } from '../detectorSettings.js';

const MINUTE = 60_000;


export const CrossServerConfigSchema = z
  .object({
    /** How long returned content can still explain a later call. */
    windowMs: positiveInt(15 * MINUTE),
    /** Returned contents remembered per host session (the newest). */
    maxItems: positiveInt(16),
    /** Characters of each content kept for instruction matching. */
    maxContentChars: positiveInt(8192),
    /** Characters of a content or call scanned for taint. */
    maxScanChars: positiveInt(256 * 1024),
    /** Distinctive tokens kept per content. */
    maxTokensPerItem: positiveInt(256),
    /** Passage fingerprints kept per content (a bottom-k sketch). */
    maxShinglesPerItem: positiveInt(512),
    /** Words per passage fingerprint. */
    shingleWords: z.number().int().min(2).max(16).default(5),
    /** A token shorter than this is never distinctive. */
    minTokenLength: z.number().int().min(3).default(6),
    /** Shared distinctive tokens and URLs that count as carried data. */
    minSharedTokens: positiveInt(2),
    /** Shared passage fingerprints that count as a copied passage... */
    minSharedShingles: positiveInt(4),
    /** ...when at least this share of the call's passages is copied. */
    minPassageContainment: z.number().min(0).max(1).default(0.2),
    /** Flow score (evidence 1–3, +1 private source, +1 sensitive sink, +1 instructed by the sink's server) that alerts. */
    minFlowScore: z.number().int().min(1).max(6).default(3),
    /** Instruction score (+1 names the tool or its parameters, +1 imperative cue, +1 argument value copied) that alerts. */
    minInstructionScore: z.number().int().min(1).max(3).default(2),
    /** A host session with no event for this long is forgotten. */
    idleMs: positiveInt(60 * MINUTE),
    maxServersPerHostSession: positiveInt(64),
    maxToolsPerServer: positiveInt(256),
    /** Characters of a tool's description (and its parameters') kept for shadowing checks. */
    maxDescriptionChars: positiveInt(4096),
    /** Shadowing and collision findings remembered per host session, so each alerts once. */
    maxReported: positiveInt(1024),
  })
  .strict();

export type CrossServerConfig = z.infer<typeof CrossServerConfigSchema>;
