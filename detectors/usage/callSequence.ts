/**
 * Tool-call sequences within one MCP session: the last few calls of each session, and the n-grams a
 * new call completes. A sequence is keyed by its tool names; the calls behind it are kept so an alert
 * can cite every event of the sequence.
 */
import type { AlertSource } from '../alertBuilder.js';

/** One call of a session: its tool and its event. */
export interface RecentCall {
  tool: string;
  source: AlertSource;
}

/** What a session remembers: its latest calls, oldest first. */
export interface SessionCalls {
  lastSeen: number;
  recent: RecentCall[];
}

/** The sequences of 2..maxLength calls that end with `call`, shortest first. */
export function sequencesEndingWith(recent: readonly RecentCall[], call: RecentCall, maxLength: number): RecentCall[][] {
  const sequences: RecentCall[][] = [];
  for (let length = 2; length <= maxLength && length - 1 <= recent.length; length++) sequences.push([...recent.slice(recent.length - (length - 1)), call]);
  return sequences;
}

/** The state key of a sequence: its tool names, unambiguous whatever they contain. */
export function sequenceKey(sequence: readonly RecentCall[]): string {
  return JSON.stringify(sequence.map((c) => c.tool));
}

/** A sequence as people read it: `list_notes → write_note`. */
export function sequenceText(sequence: readonly RecentCall[]): string {
  return sequence.map((c) => c.tool).join(' → ');
}

/** The session with `call` appended, keeping the last maxLength - 1 calls. */
export function withRecentCall(session: SessionCalls | undefined, call: RecentCall, now: number, maxLength: number): SessionCalls {
  const recent = [...(session?.recent ?? []), call];
  return { lastSeen: now, recent: recent.slice(Math.max(0, recent.length - (maxLength - 1))) };
}
