/**
 * The contract of a tier-1 structural detector: a small, explainable test on normalized text that says which
 * attack a span of it looks like and why (the span and the cue). Each detector lives in its own file here;
 * structuralSignals.ts runs them all.
 */

/** Where detection met the text: a description-like field, or content a tool or server returned. */
export type TextKind = 'documentation' | 'content';

/** One span of text that reads like an attack, with the cue that says so. */
export interface StructuralSignal {
  /** The cue, as `<detector>.<cue>` (e.g. `prerequisite_call.call_first`). */
  id: string;
  /** The dataset attack name the cue points to (poisoning, exfiltration, shadowing, prerequisite_call, …). */
  attack: string;
  /** UTF-16 offsets of the span in the text examined. */
  start: number;
  end: number;
  /** The span (bounded), for an alert to show. */
  evidence: string;
}

/** A tool another server offers, as a fleet-wide index knows it. */
export interface ForeignTool {
  name: string;
  server: string;
}

/** What a detector may know beyond the text; every field is optional, detectors work without it. */
export interface SignalContext {
  /** The tool (or prompt/resource) the text belongs to. */
  toolName?: string;
  /** The server that sent the text. */
  serverName?: string;
  /** The names of the server's own tools: a prerequisite call to one of them is ordinary. */
  ownTools?: readonly string[];
  /** The tool's own parameter names: naming them is not hijacking another tool's arguments. */
  ownParameters?: readonly string[];
  /** Tools other servers of the fleet offer, found by any spelling of their name (snake_case, camelCase, spaced). */
  foreignTool?: (words: string) => ForeignTool | undefined;
  /** Whether any indexed tool name begins with this (lower-case) word: lets the shadowing detector skip most words. */
  nameStartsWith?: (word: string) => boolean;
  /**
   * How many preference claims (best, official, most trusted…) tools of the same kind make on average; a
   * description is scored against it, so a whole category that talks that way does not alert.
   */
  peerClaimRate?: number;
}

/**
 * A tier-1 detector in two steps, so the costly one runs once per distinct text: `read` finds what the text holds
 * without any context (its cue matches: the text alone decides them, so the content tiers cache readings per
 * distinct text, textReadings.ts), `judge` turns a reading into signals with what the fleet knows (cheap: a
 * reading is small). Detectors that need no context judge by returning their reading (contextFree).
 */
export interface StructuralDetector<Reading = unknown> {
  /** The detector's name, the first part of its signals' ids. */
  id: string;
  /** The kinds of text it reads. */
  kinds: readonly TextKind[];
  /** What `text`, read as `kind`, holds, independent of any context. */
  read(text: string, kind: TextKind): Reading;
  /** The signals of a reading of `text`, given the context. */
  judge(reading: Reading, text: string, context: SignalContext): StructuralSignal[];
}

/** A detector whose signals depend on the text alone. */
export function contextFree(id: string, kinds: readonly TextKind[], find: (text: string, kind: TextKind) => StructuralSignal[]): StructuralDetector<StructuralSignal[]> {
  return { id, kinds, read: find, judge: (signals) => signals };
}

const EVIDENCE_CHARS = 160;

/** A regex gap of up to `n` characters within one sentence (a dot inside a word, as in a domain, does not end it). */
export const withinSentence = (n: number): string => String.raw`(?:[^.!?\n]|[.!?](?=\S)){0,${n}}?`;

/** A signal for the regex match `m` of `text`, widened to `[start, end)` when given. */
export function signalAt(id: string, attack: string, text: string, start: number, end: number): StructuralSignal {
  const span = text.slice(start, end).replace(/\s+/g, ' ').trim();
  return { id, attack, start, end, evidence: span.length > EVIDENCE_CHARS ? `${span.slice(0, EVIDENCE_CHARS)}…` : span };
}

/**
 * A cue: its name, its (global) pattern and, for speed, an optional guard — a cheap test of words every match of the
 * pattern contains, so the pattern runs only on the few texts that have them.
 */
export type Cue = readonly [name: string, pattern: RegExp, guard?: RegExp];

/** Signals for every match of the cues' patterns, each with its cue name. */
export function matchCues(text: string, detector: string, attack: string, cues: readonly Cue[]): StructuralSignal[] {
  const out: StructuralSignal[] = [];
  for (const [cue, pattern, guard] of cues) {
    if (guard !== undefined && !guard.test(text)) continue;
    for (const m of text.matchAll(pattern)) out.push(signalAt(`${detector}.${cue}`, attack, text, m.index, m.index + m[0].length));
  }
  return out;
}
