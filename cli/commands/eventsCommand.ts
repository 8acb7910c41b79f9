/** `tapwire events`: list captured MCP events from the store. */
import type { EventQuery, Store } from '../../pipeline/store.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { eventTable } from '../alertView/alertText.js';
import { alertEvidence, eventsById, findAlertByPrefix, findHostSessionByPrefix, findSessionByPrefix, IdLookupError } from '../alertView/storeLookup.js';
import { STORE_CHOICE_OPTIONS, storeChoiceHelp, withConfiguredStore } from '../configuredStore.js';
import { writeJsonLines, writeLimitNotice } from '../commandOutput.js';
import { parseTimeSpec } from '../timeSpec.js';
import { parseCommand, positiveInteger, UsageError } from '../usage.js';

const spec = {
  name: 'events',
  summary: 'Lists captured MCP events, oldest first. Ids shown short (session, event, alert) are accepted short.',
  usage:
    'tapwire events [--session S | --host-session H] [--server NAME] [--method M] [--tool T] [--since 1h] [--until T] [--limit N] [--json]\n' +
    '       tapwire events --id ID… | --alert ID [--json]',
  details: `Options:
  --session S        one session (its id or a unique prefix, as 'tapwire sessions' and the tables show it)
  --host-session H   every server's events of one host session (its id or a unique prefix)
  --id ID            one event by id (<session>:<sequence>, the session part may be a prefix); repeatable
  --alert ID         the evidence events of an alert (its id or a unique prefix, as 'tapwire alerts' shows it)
  --server NAME      one server, by name or id
  --method M         one MCP method, e.g. tools/call
  --tool T           one tool name
  --since T          from a time: 30s, 15m, 1h, 7d, or an ISO time
  --until T          up to a time (same forms)
  --limit N          at most N events (default 200; the newest N when more match, and the output says so)
  --json             one event per line as NDJSON (ECS documents)
  --home DIR         Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
${storeChoiceHelp(21)}`,
  options: {
    session: { type: 'string' },
    'host-session': { type: 'string' },
    id: { type: 'string', multiple: true },
    alert: { type: 'string' },
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

interface EventsOptions {
  session?: string;
  'host-session'?: string;
  id?: string[];
  alert?: string;
}

/** Events named by id (--id) or as an alert's evidence (--alert); undefined when neither was given. */
async function namedEvents(store: Store, o: EventsOptions): Promise<McpEvent[] | undefined> {
  if (o.alert !== undefined) {
    const evidence = await alertEvidence(store, await findAlertByPrefix(store, o.alert));
    if (evidence.missing.length > 0) process.stderr.write(`evidence no longer stored: ${evidence.missing.join(', ')}\n`);
    return evidence.events;
  }
  if (o.id === undefined) return undefined;
  const { events, missing } = await eventsById(store, o.id);
  if (missing.length > 0) throw new IdLookupError(`no event ${missing.join(', ')}`);
  return events;
}

/** Entry point of `tapwire events`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const selectors = [o.session, o['host-session'], o.id, o.alert].filter((v) => v !== undefined).length;
  if (selectors > 1) throw new UsageError('give one of --session, --host-session, --id and --alert');
  const limit = positiveInteger(o.limit, '--limit', 200);
  const since = o.since === undefined ? undefined : parseTimeSpec(o.since, '--since');
  const until = o.until === undefined ? undefined : parseTimeSpec(o.until, '--until');
  return withConfiguredStore(o, async ({ store }) => {
    let events: McpEvent[];
    let cut = false;
    try {
      const named = await namedEvents(store, o);
      if (named !== undefined) events = named;
      else {
        const query: EventQuery = {
          ...(o.session ? { session: (await findSessionByPrefix(store, o.session)).id } : {}),
          ...(o['host-session'] ? { hostSession: await findHostSessionByPrefix(store, o['host-session']) } : {}),
          ...(o.server ? { server: o.server } : {}),
          ...(o.method ? { method: o.method } : {}),
          ...(o.tool ? { tool: o.tool } : {}),
          ...(since === undefined ? {} : { since }),
          ...(until === undefined ? {} : { until }),
          limit: limit + 1,
          order: 'desc',
        };
        const found = await store.events(query);
        cut = found.length > limit;
        events = found.slice(0, limit).reverse();
      }
    } catch (error) {
      if (error instanceof IdLookupError) throw new UsageError(error.message);
      throw error;
    }
    if (o.json) writeJsonLines(events);
    else process.stdout.write(events.length ? eventTable(events) : 'no events match\n');
    if (cut) writeLimitNotice(`events: showing the newest ${limit}; more match (raise --limit, or narrow with --session/--since/--method)`, Boolean(o.json));
  });
}
