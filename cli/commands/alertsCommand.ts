/** `tapwire alerts`: list stored alerts, newest first. */
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { STORE_CHOICE_OPTIONS, storeChoiceHelp, withConfiguredStore } from '../configuredStore.js';
import { renderTable, shortTime, writeJsonLines } from '../commandOutput.js';
import { parseTimeSpec } from '../timeSpec.js';
import { parseCommand, positiveInteger, UsageError } from '../usage.js';

const spec = {
  name: 'alerts',
  summary: "Lists stored alerts, newest first. Alerts are written by 'tapwire detect', 'tapwire up' and 'tapwire demo'.",
  usage: 'tapwire alerts [--since 1h] [--severity low|medium|high|critical] [--server NAME] [--rule ID] [--limit N] [--json] [--store es] [--config FILE]',
  details: `Options:
  --since T          from a time: 30s, 15m, 1h, 7d, or an ISO time
  --severity S       at least this severity: low, medium, high or critical
  --server NAME      one server, by name or id
  --rule ID          one rule id
  --limit N          at most N alerts (default 100)
  --json             one alert per line as NDJSON
  --home DIR         Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
${storeChoiceHelp(21)}`,
  options: {
    since: { type: 'string' },
    severity: { type: 'string' },
    server: { type: 'string' },
    rule: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    home: { type: 'string' },
    ...STORE_CHOICE_OPTIONS,
  },
} as const;

/** event.severity bands, as DESIGN.md defines them. */
export const SEVERITY_BANDS = { low: 21, medium: 47, high: 73, critical: 99 } as const;

/** The band name of an event.severity. */
export function severityName(severity: number): string {
  return Object.entries(SEVERITY_BANDS).find(([, value]) => value === severity)?.[0] ?? String(severity);
}

function minSeverity(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const band = SEVERITY_BANDS[value as keyof typeof SEVERITY_BANDS];
  if (band === undefined) throw new UsageError(`--severity: expected low, medium, high or critical, got '${value}'`);
  return band;
}

/** Entry point of `tapwire alerts`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const severity = minSeverity(o.severity);
  const query = {
    ...(o.since ? { since: parseTimeSpec(o.since, '--since') } : {}),
    ...(severity === undefined ? {} : { minSeverity: severity }),
    ...(o.server ? { server: o.server } : {}),
    ...(o.rule ? { ruleId: o.rule } : {}),
    limit: positiveInteger(o.limit, '--limit', 100),
  };
  return withConfiguredStore(o, async ({ store }) => {
    const alerts = await store.alerts(query);
    if (o.json) return writeJsonLines(alerts);
    const rows = alerts.map((a: McpAlert) => [shortTime(Date.parse(a['@timestamp'])), severityName(a.event.severity), a.rule.id, a.mcp?.server?.name, a.message]);
    process.stdout.write(rows.length ? renderTable(['time', 'severity', 'rule', 'server', 'message'], rows, 110) : 'no alerts match\n');
  });
}
