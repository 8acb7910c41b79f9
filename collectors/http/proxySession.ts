/**
 * The proxy's own session (its start and end, and the requests it refused before any route), built the same way by
 * the observer that records it live and by the recovery that records its end later, from the note the proxy leaves
 * when its observer could not record it (unrecordedNote.ts): both must make the events of one session.
 */
import { hostname } from 'node:os';
import { tapwireVersion } from '../../pipeline/packagePaths.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { SessionNormalizer, type SessionIdentity } from '../normalizer.js';
import type { Redactor } from '../redaction.js';
import { UNKNOWN_PROGRESS_END_SEQUENCE } from '../unrecordedNote.js';

/** What the proxy notes of its session when its observer did not record the session's end. */
export interface ProxyUnrecordedNote {
  kind: 'http_proxy';
  sessionId: string;
  /** The proxy's address (its session's server id). */
  listenUrl: string;
  /** The proxy's process: the note is recorded only once it has exited. */
  tapPid: number;
  /** When the proxy stopped. */
  t: number;
  /** The sequence of the session's next event, as the observer last reported it. */
  sequence: number;
  /** Events the observer made, and of those the ones that never reached the bus. */
  events: number;
  dropped: number;
  /** Forwarded bytes the observer never processed. */
  unobservedBytes: number;
  /** Why the observer did not record the end. */
  reason: string;
  /**
   * The note the proxy keeps while it runs, replaced by its loss or removed as its stop ends: one left behind is of a
   * proxy killed first (a supervisor's SIGKILL during a stop that waits on the bus). Claimed only once its process is
   * gone; its end is recorded when that is found, after whatever the observer published.
   */
  whileRunning?: true;
}

/** The ECS context of every event the proxy records. */
export function proxyContext(): SessionIdentity['context'] {
  return {
    host: { hostname: hostname(), name: hostname() },
    observer: { type: 'http_tap', product: 'tapwire', vendor: 'Tapwire', version: tapwireVersion(), hostname: hostname() },
    network: { transport: 'tcp', protocol: 'mcp' },
  };
}

/** The normalizer of the proxy's session `sessionId`, numbering its events from `firstSequence`. */
export function proxySession(sessionId: string, listenUrl: string, redactor: Redactor, firstSequence = 0): SessionNormalizer {
  return new SessionNormalizer(
    { sessionId, transport: 'streamable_http', serverId: `tapwire-proxy:${listenUrl}`, serverName: 'tapwire-proxy', context: proxyContext() },
    { redactor, firstSequence },
  );
}

/** The end of a proxy session its observer did not record, with what was lost. */
export function unrecordedProxyEvents(note: ProxyUnrecordedNote, redactor: Redactor): McpEvent[] {
  const tap = { events: note.events, dropped: note.dropped, bytes_unobserved: note.unobservedBytes, reason: `unrecorded: ${note.reason}; recorded later from the proxy's note` };
  const session = proxySession(note.sessionId, note.listenUrl, redactor, note.sequence);
  // A killed proxy's note says nothing of when it died: its end is when the note is found.
  if (note.whileRunning) return [session.lifecycle('session.end', Date.now(), { message: `tapwire proxy killed; the session's end is unknown: ${note.reason}`, outcome: 'unknown', tap })];
  return [session.lifecycle('session.end', note.t, { message: `tapwire proxy stopped; its observer did not record the end: ${note.reason}`, tap })];
}

/**
 * The note a proxy keeps while it runs: should it be killed, its end is numbered past any event its observer may
 * have published, and the loss (what the observer had not stored, uncounted) is shown as one dropped event.
 */
export function runningProxyNote(sessionId: string, listenUrl: string, startedAt: number): ProxyUnrecordedNote {
  return {
    kind: 'http_proxy',
    whileRunning: true,
    sessionId,
    listenUrl,
    tapPid: process.pid,
    t: startedAt,
    sequence: UNKNOWN_PROGRESS_END_SEQUENCE,
    events: 0,
    dropped: 1,
    unobservedBytes: 0,
    reason: `tapwire proxy ${process.pid} was killed before it recorded its session's end; what its observer had not stored then is lost, and not counted`,
  };
}
