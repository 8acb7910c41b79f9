/**
 * Ids as people type them: any unique prefix of an alert id, a session id or a host session id, resolved over the
 * Store contract (so the embedded store and Elasticsearch answer alike), and an alert's evidence events.
 */
import type { SessionSummary, Store } from '../../pipeline/store.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

/** How many alerts and sessions a prefix is looked up among (the newest ones). */
export const LOOKUP_SCAN = 10_000;

/** An id that matches nothing, or more than one thing. */
export class IdLookupError extends Error {}

function unique<T>(what: string, prefix: string, found: readonly T[], idOf: (item: T) => string): T {
  if (prefix === '') throw new IdLookupError(`empty ${what} id`);
  const ids = [...new Set(found.map(idOf))];
  if (ids.length === 0) throw new IdLookupError(`no ${what} with an id starting '${prefix}'`);
  if (ids.length > 1) throw new IdLookupError(`${what} id '${prefix}' is ambiguous: ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? `, … (${ids.length} in all)` : ''}; type more of it`);
  return found.find((item) => idOf(item) === ids[0])!;
}

/** The alert whose id (fingerprint) starts with `prefix`. */
export async function findAlertByPrefix(store: Store, prefix: string): Promise<McpAlert> {
  const lower = prefix.toLowerCase();
  const alerts = await store.alerts({ limit: LOOKUP_SCAN });
  return unique('alert', prefix, alerts.filter((a) => a.alert.fingerprint.startsWith(lower)), (a) => a.alert.fingerprint);
}

/** The session whose id starts with `prefix`. */
export async function findSessionByPrefix(store: Store, prefix: string): Promise<SessionSummary> {
  const sessions = await store.sessions({ limit: LOOKUP_SCAN });
  return unique('session', prefix, sessions.filter((s) => s.id.startsWith(prefix)), (s) => s.id);
}

/** The host session id that starts with `prefix`. */
export async function findHostSessionByPrefix(store: Store, prefix: string): Promise<string> {
  const sessions = await store.sessions({ limit: LOOKUP_SCAN });
  const ids = sessions.flatMap((s) => (s.hostSessionId?.startsWith(prefix) ? [s.hostSessionId] : []));
  return unique('host session', prefix, ids, (id) => id);
}

/** Event ids are `<session id>:<sequence>`. */
function sessionOfEventId(id: string): string | undefined {
  const at = id.lastIndexOf(':');
  return at > 0 ? id.slice(0, at) : undefined;
}

/**
 * Events by id, in the order given; `short` ids (`<session prefix>:<sequence>`, as tables show them) are resolved
 * through the session. Returns the events found and the ids the store does not hold.
 */
export async function eventsById(store: Store, ids: readonly string[]): Promise<{ events: McpEvent[]; missing: string[] }> {
  const bySession = new Map<string, McpEvent[]>();
  const events: McpEvent[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const session = sessionOfEventId(id);
    if (session === undefined) {
      missing.push(id);
      continue;
    }
    let full = session;
    if (!bySession.has(session)) {
      const sessions = await store.sessions({ limit: LOOKUP_SCAN });
      const matches = sessions.filter((s) => s.id.startsWith(session));
      full = matches.length === 1 ? matches[0]!.id : session;
    }
    const sequence = id.slice(id.lastIndexOf(':') + 1);
    const inSession = bySession.get(full) ?? (await store.events({ session: full, limit: 1_000_000 }));
    bySession.set(full, inSession);
    const event = inSession.find((e) => e.event.id === `${full}:${sequence}`);
    if (event) events.push(event);
    else missing.push(id);
  }
  return { events, missing };
}

/** The events an alert names as its sources, and the ids the store no longer holds. */
export function alertEvidence(store: Store, alert: McpAlert): Promise<{ events: McpEvent[]; missing: string[] }> {
  return eventsById(store, alert.alert.source_event_ids);
}
