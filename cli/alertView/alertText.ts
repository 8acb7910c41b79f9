/** The CLI's text for alerts: the table, one streamed line per alert (up, alerts --follow), and one alert in full. */
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { renderTable, shortTime } from '../commandOutput.js';
import { directionArrow, summarizeEvent } from '../eventSummary.js';
import { findingKey, readableAlert, type CollapsedAlert } from './alertView.js';

/** The alerts table: id, time, severity, title, server, host, count, message. */
export function alertTable(alerts: readonly CollapsedAlert[]): string {
  const rows = alerts.map((a) => [a.short_id, shortTime(Date.parse(a.last_seen)), a.severity, a.title, a.server, a.host, a.count > 1 ? `×${a.count}` : '', a.message]);
  return renderTable(['id', 'time', 'severity', 'rule', 'server', 'host', 'count', 'message'], rows, 130);
}

/** One alert on one line, as it is raised. */
function alertLine(alert: McpAlert): string {
  const view = readableAlert(alert);
  const where = [view.server, view.host].filter(Boolean).join('@');
  return `${shortTime(Date.parse(view['@timestamp']))}  ${view.severity.toUpperCase().padEnd(8)} ${view.title}${where ? `  [${where}]` : ''}  ${view.short_id}\n    ${view.message}\n`;
}

/**
 * Lines for alerts as they are raised: a new finding in full, a repeat of one already printed in its session as a
 * one-line count, so a server that keeps serving the same poison does not scroll the first report away.
 */
export class LiveAlertPrinter {
  private readonly seen = new Map<string, number>();

  line(alert: McpAlert): string {
    const key = findingKey(alert);
    const count = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, count);
    if (count === 1) return alertLine(alert);
    const view = readableAlert(alert);
    return `${shortTime(Date.parse(view['@timestamp']))}  ${view.severity.toUpperCase().padEnd(8)} ${view.title}  again in session ${view.session?.slice(0, 8) ?? '?'} (×${count})  ${view.short_id}\n`;
  }
}

/** The events of an alert (or any list) as a table with ids that `tapwire events --id` accepts. */
export function eventTable(events: readonly McpEvent[]): string {
  return renderTable(
    ['id', 'time', 'server', '', 'kind', 'method', 'summary'],
    events.map((e) => [shortEventId(e), shortTime(Date.parse(e['@timestamp'])), e.mcp.server.name, directionArrow(e), e.mcp.message?.kind ?? 'lifecycle', e.event.action, summarizeEvent(e)]),
    90,
  );
}

/** `<first 8 of the session>:<sequence>`: short, and accepted back by --id. */
export function shortEventId(event: McpEvent): string {
  return `${event.mcp.session.id.slice(0, 8)}:${event.event.id.slice(event.event.id.lastIndexOf(':') + 1)}`;
}

/** One alert in full: what, where, what matched, the diff, the evidence, and what to run next. */
export function alertDetail(alert: McpAlert, evidence: { events: McpEvent[]; missing: string[] }, count: number): string {
  const view = readableAlert(alert);
  const lines: string[] = [];
  const field = (name: string, value: string | number | undefined): void => void (value === undefined || value === '' ? undefined : lines.push(`${`${name}:`.padEnd(14)}${value}`));
  field('alert', view.id);
  field('rule', `${view.title} (${view.rule_id})`);
  field('severity', view.severity);
  field('category', view.category);
  field('time', view['@timestamp']);
  field('server', alert.mcp?.server?.id && alert.mcp.server.id !== view.server ? `${view.server} (${alert.mcp.server.id})` : view.server);
  field('host', view.host);
  field('tool', view.tool);
  field('session', view.session);
  field('host session', view.host_session);
  if (count > 1) field('repeats', `${count} identical alerts in this session (shown once in 'tapwire alerts')`);
  if (alert.threat?.technique?.length) field('technique', `${alert.threat.framework ?? ''} ${alert.threat.technique.map((t) => t.id).join(', ')}`.trim());
  lines.push('', view.message);
  if (alert.rule.description) lines.push('', ...alert.rule.description.trim().split('\n').map((l) => `  ${l}`));
  if (view.matched.length > 0) {
    lines.push('', 'matched:');
    for (const m of view.matched) lines.push(`  ${m.field}${m.value === undefined ? '' : `: ${m.value}`}`);
  }
  const details = (alert.alert.details ?? {}) as { diff?: unknown; approve?: unknown };
  if (typeof details.diff === 'string' && details.diff !== '') lines.push('', 'diff:', ...details.diff.trimEnd().split('\n').map((l) => `  ${l}`));
  lines.push('', `evidence (${evidence.events.length} event${evidence.events.length === 1 ? '' : 's'}${evidence.missing.length ? `; ${evidence.missing.length} no longer stored: ${evidence.missing.join(', ')}` : ''}):`);
  if (evidence.events.length > 0) lines.push(eventTable(evidence.events).trimEnd());
  lines.push('', 'next:');
  if (view.session) lines.push(`  tapwire events --session ${view.session.slice(0, 8)}        # the whole session`);
  if (view.host_session) lines.push(`  tapwire events --host-session ${view.host_session}   # every server of that host session`);
  if (typeof details.approve === 'string') lines.push(`  ${details.approve}   # after review (add --reject to refuse it)`);
  return `${lines.join('\n')}\n`;
}
