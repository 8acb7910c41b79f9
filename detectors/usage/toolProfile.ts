/**
 * The baseline of one tool on one server: call rate, argument key sets and value shapes, argument
 * lengths, result sizes and error rate. Profiles are plain JSON in the state store and every function
 * here returns a new profile, never changing the one it was given (a state batch keeps values by reference).
 */
import { countCall, rollRate, startRate, type CallRate } from './callRate.js';
import { emptyStats, type RunningStats } from './runningStats.js';

/** Errors in the open window, and the calls and errors of the closed windows. */
export interface ErrorWindow {
  window: number;
  calls: number;
  errors: number;
  alerted: boolean;
  baselineCalls: number;
  baselineErrors: number;
}

export interface ToolProfile {
  firstSeen: number;
  lastSeen: number;
  calls: number;
  keys: string[];
  hosts: string[];
  pathRoots: string[];
  lengths: Record<string, RunningStats>;
  results: RunningStats;
  errors: ErrorWindow;
  rate: CallRate;
  /** Event time of the last alert of each repeating kind, for the cooldown. */
  lastAlert: Record<string, number>;
}

/** The set-valued parts of a profile that calls are checked against. */
export type ShapeFeature = 'keys' | 'hosts' | 'pathRoots';

/** A profile of a tool first called at `now`. */
export function newToolProfile(now: number, rateBucketMs: number, errorWindowMs: number): ToolProfile {
  return {
    firstSeen: now,
    lastSeen: now,
    calls: 0,
    keys: [],
    hosts: [],
    pathRoots: [],
    lengths: {},
    results: emptyStats(),
    errors: { window: Math.floor(now / errorWindowMs), calls: 0, errors: 0, alerted: false, baselineCalls: 0, baselineErrors: 0 },
    rate: startRate(now, rateBucketMs),
    lastAlert: {},
  };
}

/** The error window holding `now`; a closed window joins the baseline unless it alerted. */
export function rollErrors(errors: ErrorWindow, now: number, errorWindowMs: number): ErrorWindow {
  const window = Math.floor(now / errorWindowMs);
  if (window <= errors.window) return errors;
  const keep = !errors.alerted;
  return {
    window,
    calls: 0,
    errors: 0,
    alerted: false,
    baselineCalls: errors.baselineCalls + (keep ? errors.calls : 0),
    baselineErrors: errors.baselineErrors + (keep ? errors.errors : 0),
  };
}

/** The profile with its rate buckets and error windows closed up to `now`; the same object when nothing closed. */
export function rollProfile(profile: ToolProfile, now: number, rateBucketMs: number, errorWindowMs: number): ToolProfile {
  const rate = rollRate(profile.rate, now, rateBucketMs);
  const errors = rollErrors(profile.errors, now, errorWindowMs);
  return rate === profile.rate && errors === profile.errors ? profile : { ...profile, rate, errors };
}

/** The profile with one more call counted in its rate. */
export function withCall(profile: ToolProfile, now: number, rateBucketMs: number): ToolProfile {
  return { ...profile, calls: profile.calls + 1, lastSeen: Math.max(profile.lastSeen, now), rate: countCall(profile.rate, now, rateBucketMs) };
}

/** The values of `observed` that `known` does not hold. */
export function novelValues(known: readonly string[], observed: readonly string[]): string[] {
  const set = new Set(known);
  return observed.filter((value) => !set.has(value));
}

/** `known` with `added` appended; the oldest go first once there are more than `cap`. */
export function rememberValues(known: readonly string[], added: readonly string[], cap: number): string[] {
  if (added.length === 0) return [...known];
  const all = [...known, ...added];
  return all.length > cap ? all.slice(all.length - cap) : all;
}

/** Whether an alert of `kind` fired less than `cooldownMs` before `now`. */
export function coolingDown(lastAlert: Record<string, number>, kind: string, now: number, cooldownMs: number): boolean {
  const last = lastAlert[kind];
  return last !== undefined && now - last < cooldownMs;
}
