/** `tapwire alerts`: list stored alerts (newest first, identical ones collapsed), follow new ones, or show one in full. */
import type { AlertQuery } from '../../pipeline/store.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { alertDetail, alertTable, LiveAlertPrinter } from '../alertView/alertText.js';
import { collapseAlerts, readableAlert, SEVERITY_BANDS } from '../alertView/alertView.js';
import { followAlerts } from '../alertView/alertFollower.js';
import { alertEvidence, findAlertByPrefix, IdLookupError } from '../alertView/storeLookup.js';
import { STORE_CHOICE_OPTIONS, storeChoiceHelp, withConfiguredStore } from '../configuredStore.js';
import { writeJsonLines, writeLimitNotice } from '../commandOutput.js';
import { StopSignal } from '../stopSignal.js';
import { parseTimeSpec } from '../timeSpec.js';
import { parseCommand, positiveInteger, UsageError } from '../usage.js';

const spec = {
  name: 'alerts',
  summary:
    "Lists stored alerts, newest first; alerts identical within a session are shown once with a count. 'alerts show ID'\n" +
    "prints one alert with its matched text, diff and evidence events (ID: any unique prefix of the id column).\n" +
    "Alerts are written by 'tapwire detect', 'tapwire up' and 'tapwire demo'.",
  usage:
    'tapwire alerts [--since 1h] [--severity low|medium|high|critical] [--server NAME] [--rule ID] [--limit N] [--follow] [--json] [--store es] [--config FILE]\n' +
    '       tapwire alerts show ID [--json]',
  details: `Options:
  --since T          from a time: 30s, 15m, 1h, 7d, or an ISO time
  --severity S       at least this severity: low, medium, high or critical
  --server NAME      one server, by name or id
  --rule ID          one rule id
  --limit N          at most N alerts (default 100); the output says when more match
  --follow           after the list, print each new alert as the detectors raise it (embedded pipeline; Ctrl-C stops)
  --json             NDJSON: every stored alert as its ECS document (not collapsed)
  --home DIR         Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
${storeChoiceHelp(21)}`,
  options: {
    since: { type: 'string' },
    severity: { type: 'string' },
    server: { type: 'string' },
    rule: { type: 'string' },
    limit: { type: 'string' },
    follow: { type: 'boolean' },
    json: { type: 'boolean' },
    home: { type: 'string' },
    ...STORE_CHOICE_OPTIONS,
  },
  positionals: { min: 0, max: 2 },
} as const;


function minSeverity(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const band = SEVERITY_BANDS[value as keyof typeof SEVERITY_BANDS];
  if (band === undefined) throw new UsageError(`--severity: expected low, medium, high or critical, got '${value}'`);
  return band;
}

function matchesQuery(alert: McpAlert, query: AlertQuery): boolean {
  return (
    (query.minSeverity === undefined || alert.event.severity >= query.minSeverity) &&
    (query.server === undefined || alert.mcp?.server?.name === query.server || alert.mcp?.server?.id === query.server) &&
    (query.ruleId === undefined || alert.rule.id === query.ruleId)
  );
}

async function show(o: { json?: boolean; home?: string; store?: string; config?: string }, id: string): Promise<number> {
  return withConfiguredStore(o, async ({ store }) => {
    let alert: McpAlert;
    try {
      alert = await findAlertByPrefix(store, id);
    } catch (error) {
      if (error instanceof IdLookupError) throw new UsageError(error.message);
      throw error;
    }
    const evidence = await alertEvidence(store, alert);
    const session = alert.mcp?.session?.id;
    const siblings = session === undefined ? [alert] : await store.alerts({ session, ruleId: alert.rule.id, limit: 10_000 });
    const group = collapseAlerts(siblings).find((g) => g.ids.includes(alert.alert.fingerprint));
    if (o.json) return writeJsonLines([{ alert, repeats: group?.count ?? 1, readable: readableAlert(alert), evidence: evidence.events, missing_evidence: evidence.missing }]);
    process.stdout.write(alertDetail(alert, evidence, group?.count ?? 1));
  });
}

/** Entry point of `tapwire alerts`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const [subcommand, id] = parsed.positionals;
  if (subcommand !== undefined) {
    if (subcommand !== 'show') throw new UsageError(`unknown subcommand '${subcommand}' (expected show)`);
    if (id === undefined) throw new UsageError('missing ID (usage: tapwire alerts show ID)');
    return show(o, id);
  }
  if (o.follow && o.store !== undefined && o.store !== 'embedded') throw new UsageError('--follow reads the embedded pipeline of this machine; with Elasticsearch, follow alerts in Kibana');
  const severity = minSeverity(o.severity);
  const limit = positiveInteger(o.limit, '--limit', 100);
  const query: AlertQuery = {
    ...(o.since ? { since: parseTimeSpec(o.since, '--since') } : {}),
    ...(severity === undefined ? {} : { minSeverity: severity }),
    ...(o.server ? { server: o.server } : {}),
    ...(o.rule ? { ruleId: o.rule } : {}),
  };
  const code = await withConfiguredStore(o, async ({ store }) => {
    const found = await store.alerts({ ...query, limit: limit + 1 });
    const alerts = found.slice(0, limit);
    const groups = collapseAlerts(alerts);
    if (o.json) writeJsonLines(alerts);
    else process.stdout.write(groups.length ? alertTable(groups) : 'no alerts match\n');
    if (found.length > limit) writeLimitNotice(`alerts: showing the newest ${limit}; more match (raise --limit or narrow with --since/--severity/--server)`, Boolean(o.json));
  });
  if (!o.follow) return code;
  const stop = new StopSignal();
  process.stderr.write('following new alerts (Ctrl-C to stop)\n');
  const printer = new LiveAlertPrinter();
  await followAlerts(o.home, stop, (alert) => {
    if (!matchesQuery(alert, query)) return;
    process.stdout.write(o.json ? `${JSON.stringify(alert)}\n` : printer.line(alert));
  });
  return 0;
}
