/**
 * What the console's alert list and alert detail show. Alerts read as the CLI shows them (cli/alertView: rule
 * title, readable message with the matched text, repeats within a session collapsed, ids as unique prefixes); the
 * detail adds the rule's description, the drift diff side by side, and the evidence events.
 */
import { collapseAlerts, readableAlert } from '../../cli/alertView/alertView.js';
import { alertEvidence, findAlertByPrefix } from '../../cli/alertView/storeLookup.js';
import type { AlertQuery, Store } from '../../pipeline/store.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { AlertDetail, AlertList } from '../api/consoleApiTypes.js';
import { sideBySide } from './sideBySideDiff.js';

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

/** Alerts matching the filter, newest first, repeats collapsed; `truncated` when the limit cut the list. */
export async function listAlerts(store: Store, filter: AlertFilter): Promise<AlertList> {
  const query: AlertQuery = { limit: filter.limit + 1 };
  if (filter.severity !== undefined) query.minSeverity = filter.severity;
  if (filter.rule) query.ruleId = filter.rule;
  if (filter.server) query.server = filter.server;
  if (filter.since !== undefined) query.since = filter.since;
  if (filter.until !== undefined) query.until = filter.until;
  // The store contract has no host filter; the console filters hosts itself over a wider window.
  if (filter.host) query.limit = Math.max(query.limit ?? 0, 10_000);
  let alerts = await store.alerts(query);
  if (filter.host) alerts = alerts.filter((a) => a.host?.hostname === filter.host);
  return { alerts: collapseAlerts(alerts.slice(0, filter.limit)), truncated: alerts.length > filter.limit };
}

/** The alert an id or unique id prefix names (throws IdLookupError otherwise). */
export function findAlert(store: Store, id: string): Promise<McpAlert> {
  return findAlertByPrefix(store, id);
}

/** The alert's detail: everything the detail view shows. */
export async function alertDetail(store: Store, alert: McpAlert): Promise<AlertDetail> {
  const details = (alert.alert.details ?? {}) as Record<string, unknown>;
  const { events, missing } = await alertEvidence(store, alert);
  const detail: AlertDetail = {
    ...readableAlert(alert),
    description: alert.rule.description,
    matched_full: alert.alert.matched ?? [],
    details,
    evidence: events,
    missing_evidence: missing,
  };
  if (typeof details.diff === 'string' && details.diff !== '') detail.diff = sideBySide(details.diff);
  if (typeof details.approve === 'string') detail.approve = details.approve;
  return detail;
}
