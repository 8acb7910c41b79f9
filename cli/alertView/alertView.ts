/**
 * How an alert reads to a person, shared by the CLI and the console so both show alerts the same way: the rule's
 * title instead of its id, the severity band, where it happened, and a message that quotes what matched (values are
 * redacted at the collector; here they are only flattened and bounded). Alerts that repeat within a session — the
 * same rule, message and matched values, from different events — collapse into one with a count.
 */
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';

/** event.severity bands, as DESIGN.md defines them. */
export const SEVERITY_BANDS = { low: 21, medium: 47, high: 73, critical: 99 } as const;

/** The band name of an event.severity. */
export function severityName(severity: number): string {
  return Object.entries(SEVERITY_BANDS).find(([, value]) => value === severity)?.[0] ?? String(severity);
}

/** Characters of one matched value quoted in a message. */
export const MATCHED_EXCERPT = 160;
/** Hex digits of an alert id shown in tables; any unique prefix is accepted back. */
export const SHORT_ID = 10;

/** One readable alert (snake_case, ISO times: the --json shape of the CLI's own views). */
export interface ReadableAlert {
  id: string;
  short_id: string;
  '@timestamp': string;
  title: string;
  rule_id: string;
  category: string;
  severity: string;
  server?: string;
  host?: string;
  tool?: string;
  session?: string;
  host_session?: string;
  message: string;
  matched: { field: string; value?: string }[];
}

/** A readable alert that stands for `count` identical ones of its session. */
export interface CollapsedAlert extends ReadableAlert {
  count: number;
  first_seen: string;
  last_seen: string;
  /** Every collapsed alert's id, newest first. */
  ids: string[];
}

/** Flattens whitespace and cuts to `max` characters with an ellipsis. */
export function excerpt(text: string, max = MATCHED_EXCERPT): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A matched field's name without the derived-text namespace: mcp.text.descriptions → descriptions. */
function fieldLabel(field: string): string {
  return field.replace(/^mcp\.text\./, '');
}

/**
 * The alert builder's default sentence ("<rule> (<level>) on MCP server … from N events.") says nothing the table
 * does not; detectors that write their own message say what happened, and keep it.
 */
function isDefaultMessage(alert: McpAlert): boolean {
  return alert.message.startsWith(`${alert.rule.name} (`) && / from \d+ events?\.$/.test(alert.message);
}

/** Matched entries without repeats (older alerts may carry the same field and value twice). */
function distinctMatched(alert: McpAlert): { field: string; value?: string }[] {
  const seen = new Set<string>();
  return (alert.alert.matched ?? []).filter((m) => {
    const key = `${m.field}\u0000${m.value ?? ''}`;
    return !seen.has(key) && Boolean(seen.add(key));
  });
}

/** The sentence a person reads: what matched, quoted and bounded, where. */
export function readableMessage(alert: McpAlert): string {
  const matched = distinctMatched(alert).filter((m) => m.value !== undefined && m.value !== '');
  const quotes = matched.map((m) => `${fieldLabel(m.field)} "${excerpt(m.value!)}"`);
  if (!isDefaultMessage(alert)) return alert.message;
  const where = [alert.gen_ai?.tool?.name === undefined ? undefined : `tool ${alert.gen_ai.tool.name}`, alert.mcp?.method?.name].filter(Boolean).join(', ');
  const subject = where === '' ? '' : ` in ${where}`;
  if (quotes.length === 0) return `${alert.rule.name}${subject}`;
  return `matched${subject}: ${quotes.join('; ')}`;
}

/** The alert as a person reads it. */
export function readableAlert(alert: McpAlert): ReadableAlert {
  const view: ReadableAlert = {
    id: alert.alert.fingerprint,
    short_id: alert.alert.fingerprint.slice(0, SHORT_ID),
    '@timestamp': alert['@timestamp'],
    title: alert.rule.name,
    rule_id: alert.rule.id,
    category: alert.rule.category,
    severity: severityName(alert.event.severity),
    message: readableMessage(alert),
    matched: distinctMatched(alert).map((m) => (m.value === undefined ? { field: m.field } : { field: m.field, value: excerpt(m.value) })),
  };
  const optional: Partial<ReadableAlert> = {
    server: alert.mcp?.server?.name,
    host: alert.host?.hostname,
    tool: alert.gen_ai?.tool?.name,
    session: alert.mcp?.session?.id,
    host_session: alert.mcp?.host_session?.id,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (view as unknown as Record<string, unknown>)[key] = value;
  return view;
}

/** What makes two alerts of a session the same finding: equal keys collapse into one. */
export function findingKey(alert: McpAlert, view: ReadableAlert = readableAlert(alert)): string {
  return JSON.stringify([alert.rule.id, alert.mcp?.session?.id ?? '', alert.mcp?.server?.id ?? '', view.tool ?? '', view.message, view.matched]);
}

/** Collapses alerts identical within a session, keeping the order of each group's newest alert (input: newest first). */
export function collapseAlerts(alerts: readonly McpAlert[]): CollapsedAlert[] {
  const groups = new Map<string, CollapsedAlert>();
  for (const alert of alerts) {
    const view = readableAlert(alert);
    const key = findingKey(alert, view);
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { ...view, count: 1, first_seen: view['@timestamp'], last_seen: view['@timestamp'], ids: [view.id] });
      continue;
    }
    group.count += 1;
    group.ids.push(view.id);
    if (view['@timestamp'] < group.first_seen) group.first_seen = view['@timestamp'];
    if (view['@timestamp'] > group.last_seen) group.last_seen = view['@timestamp'];
  }
  return [...groups.values()];
}
