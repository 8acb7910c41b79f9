/** What the console's alert list and alert detail show: one alert as the UI reads it, and its evidence. */
import type { AlertQuery, Store } from '../../pipeline/store.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { severityName } from '../../cli/commands/alertsCommand.js';
import { sideBySide, type DiffRow } from './sideBySideDiff.js';

export interface AlertRow {
  id: string;
  time: string;
  severity: number;
  severityName: string;
  rule: { id: string; name: string; category: string };
  server?: string;
  host?: string;
  tool?: string;
  session?: string;
  hostSession?: string;
  message: string;
}

export interface AlertDetail extends AlertRow {
  description: string;
  matched: { field: string; value?: string }[];
  details: Record<string, unknown>;
  /** The drift diff, side by side, when the alert carries one. */
  diff?: { header: { left: string; right: string }; rows: DiffRow[] };
  approve?: string;
  evidence: McpEvent[];
  /** Evidence ids the store no longer holds. */
  missingEvidence: string[];
}

/** The alert list's filters, as the UI sends them in the query string. */
export interface AlertFilter {
  severity?: number;
  rule?: string;
  server?: string;
  host?: string;
  since?: number;
  until?: number;
  limit: number;
}

export function alertRow(alert: McpAlert): AlertRow {
  const row: AlertRow = {
    id: alert.alert.fingerprint,
    time: alert['@timestamp'],
    severity: alert.event.severity,
    severityName: severityName(alert.event.severity),
    rule: { id: alert.rule.id, name: alert.rule.name, category: alert.rule.category },
    message: alert.message,
  };
  const optional: Partial<AlertRow> = {
    server: alert.mcp?.server?.name,
    host: alert.host?.hostname,
    tool: alert.gen_ai?.tool?.name,
    session: alert.mcp?.session?.id,
    hostSession: alert.mcp?.host_session?.id,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (row as unknown as Record<string, unknown>)[key] = value;
  return row;
}

/** Alerts matching the filter, newest first; `truncated` when the limit cut the list. */
export async function listAlerts(store: Store, filter: AlertFilter): Promise<{ alerts: AlertRow[]; truncated: boolean }> {
  const query: AlertQuery = { limit: filter.limit + 1 };
  if (filter.severity !== undefined) query.minSeverity = filter.severity;
  if (filter.rule) query.ruleId = filter.rule;
  if (filter.server) query.server = filter.server;
  if (filter.since !== undefined) query.since = filter.since;
  if (filter.until !== undefined) query.until = filter.until;
  // The store contract has no host filter; hosts are few per fleet view, so the console filters them itself.
  if (filter.host) query.limit = Math.max(query.limit ?? 0, 10_000);
  let alerts = await store.alerts(query);
  if (filter.host) alerts = alerts.filter((a) => a.host?.hostname === filter.host);
  return { alerts: alerts.slice(0, filter.limit).map(alertRow), truncated: alerts.length > filter.limit };
}

/** The session an event id belongs to: event ids are `<session id>:<sequence>`. */
export function sessionOfEventId(eventId: string): string {
  return eventId.slice(0, eventId.lastIndexOf(':'));
}

/** The events with these ids, in the order given, and the ids not found. */
export async function eventsById(store: Store, ids: readonly string[]): Promise<{ events: McpEvent[]; missing: string[] }> {
  const found = new Map<string, McpEvent>();
  for (const session of new Set(ids.map(sessionOfEventId))) {
    for (const event of await store.events({ session, limit: 100_000, order: 'asc' })) if (ids.includes(event.event.id)) found.set(event.event.id, event);
  }
  return { events: ids.flatMap((id) => found.get(id) ?? []), missing: ids.filter((id) => !found.has(id)) };
}

/** One alert by its full fingerprint. */
export async function findAlert(store: Store, id: string): Promise<McpAlert | undefined> {
  return (await store.alerts({ limit: 100_000 })).find((a) => a.alert.fingerprint === id);
}

/** The alert's detail: everything the detail view shows. */
export async function alertDetail(store: Store, alert: McpAlert): Promise<AlertDetail> {
  const details = (alert.alert.details ?? {}) as Record<string, unknown>;
  const { events, missing } = await eventsById(store, alert.alert.source_event_ids);
  const detail: AlertDetail = {
    ...alertRow(alert),
    description: alert.rule.description,
    matched: alert.alert.matched ?? [],
    details,
    evidence: events,
    missingEvidence: missing,
  };
  if (typeof details.diff === 'string' && details.diff !== '') detail.diff = sideBySide(details.diff);
  if (typeof details.approve === 'string') detail.approve = details.approve;
  return detail;
}
