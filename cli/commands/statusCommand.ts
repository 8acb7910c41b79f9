/** `tapwire status`: is telemetry flowing? Bus depth, per-tap counts, and every dropped event. */
import { withEmbeddedPipeline } from '../embeddedPipeline.js';
import { renderTable, shortTime, writeJsonLines } from '../commandOutput.js';
import { parseCommand } from '../usage.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

const spec = {
  name: 'status',
  summary: 'Shows the bus depth, each tap\'s counters, and the events taps could not deliver.',
  usage: 'tapwire status [--json]',
  details: `Options:
  --json       machine-readable output
  --home DIR   Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)`,
  options: { json: { type: 'boolean' }, home: { type: 'string' } },
} as const;

/** Entry point of `tapwire status`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  return withEmbeddedPipeline(o.home, async (pipeline) => {
    const bus = pipeline.bus.describe();
    const sessions = await pipeline.store.sessions({ limit: 10_000 });
    // The latest counters of each tap: its last tap.status or session.end event.
    const counters = new Map<string, NonNullable<McpEvent['mcp']['tap']>>();
    for (const method of ['tap.status', 'session.end']) {
      for (const e of await pipeline.store.events({ method, order: 'asc', limit: 100_000 })) if (e.mcp.tap) counters.set(e.mcp.session.id, e.mcp.tap);
    }
    const taps = sessions.map((s) => ({ session: s.id, server: s.serverName, pid: s.pid, state: sessionState(s.ended, s.pid), events: s.events, lastSeen: s.lastSeen, dropped: counters.get(s.id)?.dropped ?? 0, unobservedBytes: counters.get(s.id)?.bytes_unobserved ?? 0 }));
    const dropped = taps.reduce((sum, t) => sum + t.dropped, 0);
    const status = { home: pipeline.paths.root, bus, taps, dropped };
    if (o.json) return writeJsonLines([status]);
    process.stdout.write(`home: ${status.home}\n\nbus topics\n`);
    process.stdout.write(renderTable(['topic', 'records', 'last offset'], bus.topics.map((t) => [t.topic, t.records, t.lastOffset])));
    process.stdout.write('\nconsumer groups\n');
    process.stdout.write(bus.groups.length ? renderTable(['group', 'topic', 'committed', 'lag'], bus.groups.map((g) => [g.group, g.topic, g.committed, g.lag])) : '(none)\n');
    process.stdout.write(`\ntaps (${taps.filter((t) => t.state === 'open').length} open, ${dropped} events dropped in all)\n`);
    process.stdout.write(renderTable(['session', 'server', 'pid', 'state', 'events', 'dropped', 'unobserved bytes', 'last seen'], taps.map((t) => [t.session.slice(0, 8), t.server, t.pid, t.state, t.events, t.dropped, t.unobservedBytes, shortTime(t.lastSeen)])));
  });
}

/**
 * A session without a recorded end is open while its server runs; once the server is gone, its end was never
 * recorded (the tap was killed, or the disk was full), and what is known is what the table shows.
 */
function sessionState(ended: boolean, pid: number | undefined): string {
  if (ended) return 'ended';
  if (pid === undefined) return 'open';
  try {
    process.kill(pid, 0);
    return 'open';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'open' : 'ended unrecorded';
  }
}
