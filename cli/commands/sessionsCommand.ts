/** `tapwire sessions`: list MCP sessions (one per tapped server process or HTTP session). */
import { STORE_CHOICE_OPTIONS, storeChoiceHelp, withConfiguredStore } from '../configuredStore.js';
import { renderTable, shortTime, writeJsonLines, writeLimitNotice } from '../commandOutput.js';
import { parseTimeSpec } from '../timeSpec.js';
import { jsonShape } from '../jsonShape.js';
import { parseCommand, positiveInteger } from '../usage.js';

const spec = {
  name: 'sessions',
  summary: 'Lists MCP sessions, newest first.',
  usage: 'tapwire sessions [--server NAME] [--since 1h] [--limit N] [--json] [--store es] [--config FILE]',
  details: `Options:
  --server NAME   sessions of one server (name or id)
  --since T       sessions active since a time: 15m, 1h, 7d, or an ISO time
  --limit N       at most N sessions (default 100)
  --json          one session per line as NDJSON
  --home DIR      Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
${storeChoiceHelp(18)}`,
  options: { server: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, home: { type: 'string' }, ...STORE_CHOICE_OPTIONS },
} as const;

/** Entry point of `tapwire sessions`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  return withConfiguredStore(o, async ({ store }) => {
    const limit = positiveInteger(o.limit, '--limit', 100);
    const found = await store.sessions({
      ...(o.server ? { server: o.server } : {}),
      ...(o.since ? { since: parseTimeSpec(o.since, '--since') } : {}),
      limit: limit + 1,
    });
    const sessions = found.slice(0, limit);
    const notice = (): void => {
      if (found.length > limit) writeLimitNotice(`sessions: showing the ${limit} most recently active; more match (raise --limit or narrow with --since/--server)`, Boolean(o.json));
    };
    if (o.json) {
      writeJsonLines(jsonShape(sessions) as unknown[]);
      return notice();
    }
    const rows = sessions.map((s) => [
      s.id,
      s.serverName,
      s.serverVersion,
      s.transport,
      s.clientName,
      s.protocolVersion,
      s.events,
      shortTime(s.firstSeen),
      s.ended ? 'ended' : 'open',
      s.hostSessionId,
    ]);
    process.stdout.write(rows.length ? renderTable(['session', 'server', 'version', 'transport', 'client', 'protocol', 'events', 'started', 'state', 'host session'], rows) : 'no sessions\n');
    notice();
  });
}
