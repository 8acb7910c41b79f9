/** `tapwire servers`: the inventory of MCP servers seen, with their tools and tool hashes. */
import { withEmbeddedPipeline } from '../embeddedPipeline.js';
import { renderTable, shortTime, writeJsonLines } from '../commandOutput.js';
import { jsonShape } from '../jsonShape.js';
import { parseCommand } from '../usage.js';

const spec = {
  name: 'servers',
  summary: 'Lists the MCP servers seen (the inventory) and, with --tools, every tool version with its hash.',
  usage: 'tapwire servers [--tools] [--json]',
  details: `Options:
  --tools       also list each tool version (name, SHA-256 of its definition, description)
  --json        one server per line as NDJSON (with its tools when --tools is given)
  --home DIR    Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)`,
  options: { tools: { type: 'boolean' }, json: { type: 'boolean' }, home: { type: 'string' } },
} as const;

/** Entry point of `tapwire servers`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  return withEmbeddedPipeline(o.home, async ({ store }) => {
    const servers = await store.servers({});
    const tools = o.tools ? await store.tools({}) : [];
    if (o.json) return writeJsonLines(jsonShape(o.tools ? servers.map((s) => ({ ...s, tools: tools.filter((t) => t.serverId === s.id) })) : servers) as unknown[]);
    const rows = servers.map((s) => [s.name, s.reportedName, s.version, s.transport, s.sessions, s.events, shortTime(s.firstSeen), shortTime(s.lastSeen), s.hosts.join(','), s.id]);
    process.stdout.write(rows.length ? renderTable(['server', 'reports as', 'version', 'transport', 'sessions', 'events', 'first seen', 'last seen', 'hosts', 'identity'], rows) : 'no servers\n');
    if (o.tools && tools.length) {
      process.stdout.write('\n');
      process.stdout.write(renderTable(['server', 'tool', 'sha256', 'first seen', 'description'], tools.map((t) => [t.serverName, t.name, t.hash.slice(0, 16), shortTime(t.firstSeen), t.description])));
    }
  });
}
