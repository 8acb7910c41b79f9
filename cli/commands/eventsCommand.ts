/** `tapwire events`: list captured MCP events from the store. */
import { STORE_CHOICE_OPTIONS, storeChoiceHelp, withConfiguredStore } from '../configuredStore.js';
import { directionArrow, summarizeEvent } from '../eventSummary.js';
import { renderTable, shortTime, writeJsonLines } from '../commandOutput.js';
import { parseTimeSpec } from '../timeSpec.js';
import { parseCommand, positiveInteger } from '../usage.js';

const spec = {
  name: 'events',
  summary: 'Lists captured MCP events, oldest first.',
  usage: 'tapwire events [--session S] [--server NAME] [--method M] [--tool T] [--since 1h] [--until T] [--limit N] [--json] [--store es] [--config FILE]',
  details: `Options:
  --session S     one session (its id, as shown by 'tapwire sessions')
  --server NAME   one server, by name or id
  --method M      one MCP method, e.g. tools/call
  --tool T        one tool name
  --since T       from a time: 30s, 15m, 1h, 7d, or an ISO time
  --until T       up to a time (same forms)
  --limit N       at most N events (default 200; the newest N when more match)
  --json          one event per line as NDJSON
  --home DIR      Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
${storeChoiceHelp(18)}`,
  options: {
    session: { type: 'string' },
    server: { type: 'string' },
    method: { type: 'string' },
    tool: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    home: { type: 'string' },
    ...STORE_CHOICE_OPTIONS,
  },
} as const;

/** Entry point of `tapwire events`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const query = {
    ...(o.session ? { session: o.session } : {}),
    ...(o.server ? { server: o.server } : {}),
    ...(o.method ? { method: o.method } : {}),
    ...(o.tool ? { tool: o.tool } : {}),
    ...(o.since ? { since: parseTimeSpec(o.since, '--since') } : {}),
    ...(o.until ? { until: parseTimeSpec(o.until, '--until') } : {}),
    limit: positiveInteger(o.limit, '--limit', 200),
    order: 'desc' as const,
  };
  return withConfiguredStore(o, async ({ store }) => {
    const events = (await store.events(query)).reverse();
    if (o.json) return writeJsonLines(events);
    const rows = events.map((e) => [
      shortTime(Date.parse(e['@timestamp'])),
      e.mcp.session.id.slice(0, 8),
      e.mcp.server.name,
      directionArrow(e),
      e.mcp.message?.kind ?? 'lifecycle',
      e.event.action,
      summarizeEvent(e),
    ]);
    process.stdout.write(rows.length ? renderTable(['time', 'session', 'server', '', 'kind', 'method', 'summary'], rows, 90) : 'no events match\n');
  });
}
