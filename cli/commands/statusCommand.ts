/**
 * `tapwire status`: is telemetry flowing and is it being looked at? Bus depth, each tap's session with what it lost,
 * open sessions whose tap is gone, how far the detectors are behind, and what to run next.
 */
import { hostname } from 'node:os';
import { TOPICS } from '../../pipeline/bus.js';
import { withEmbeddedPipeline } from '../embeddedPipeline.js';
import { renderTable, shortTime, writeJsonLines } from '../commandOutput.js';
import { jsonShape } from '../jsonShape.js';
import { parseCommand } from '../usage.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { SessionSummary } from '../../pipeline/store.js';

const spec = {
  name: 'status',
  summary:
    "Shows the bus depth, each tap session's counters and losses, open sessions whose tap is gone, the detectors'\n" +
    'lag, and what to run next.',
  usage: 'tapwire status [--json]',
  details: `Options:
  --json       one JSON document (snake_case fields, ISO times)
  --home DIR   Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)`,
  options: { json: { type: 'boolean' }, home: { type: 'string' } },
} as const;

/** The detector worker's consumer group on the events topic (tapwire detect / up). */
const DETECTORS_GROUP = 'detectors';

/**
 * A session's state: ended, open, or open while its server process (the tap's child, on this machine) no longer
 * exists — the tap was killed before it could record the end.
 */
/**
 * A session without a recorded end is open while its server runs; once the server is gone, its end was never
 * recorded (the tap was killed, or the disk was full), and what is known is what the table shows.
 */
function sessionState(session: SessionSummary): 'ended' | 'open' | 'ended unrecorded' {
  if (session.ended) return 'ended';
  if (session.pid === undefined || session.hostname !== hostname()) return 'open';
  try {
    process.kill(session.pid, 0);
    return 'open';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'ended unrecorded' : 'open';
  }
}

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
    const taps = sessions.map((s) => ({ session: s.id, server: s.serverName, pid: s.pid, state: sessionState(s), events: s.events, lastSeen: s.lastSeen, dropped: counters.get(s.id)?.dropped ?? 0, unobservedBytes: counters.get(s.id)?.bytes_unobserved ?? 0 }));
    const dropped = taps.reduce((sum, t) => sum + t.dropped, 0);
    const detectorGroup = bus.groups.find((g) => g.group === DETECTORS_GROUP && g.topic === TOPICS.events);
    const eventRecords = bus.topics.find((t) => t.topic === TOPICS.events)?.records ?? 0;
    const alerts = (await pipeline.store.alerts({ limit: 1 })).length;
    const detector = { group: DETECTORS_GROUP, running: detectorGroup !== undefined, lag: detectorGroup?.lag ?? eventRecords };
    const next: string[] = [];
    if (sessions.length === 0) next.push("no MCP traffic captured yet: put your hosts' servers behind Tapwire with 'tapwire install' (or 'tapwire tap --name NAME -- CMD'), or try 'tapwire demo'");
    else if (!detector.running) next.push(`${eventRecords} events captured but no detector has run: start 'tapwire up' (or 'tapwire detect --once')`);
    else if (detector.lag > 0) next.push(`the detectors are ${detector.lag} events behind: is 'tapwire up' running? ('tapwire detect --once' catches up once)`);
    if (sessions.length > 0 && alerts === 0 && detector.running && detector.lag === 0) next.push("nothing detected so far: 'tapwire alerts --follow' prints alerts as they are raised; 'tapwire rules list' shows what is looked for");
    const gone = taps.filter((t) => t.state === 'ended unrecorded');
    if (gone.length > 0) next.push(`${gone.length} session${gone.length === 1 ? '' : 's'} ended unrecorded (the tap was killed or could not write its end): their last events may be missing`);
    const status = { home: pipeline.paths.root, bus, detector, alerts: alerts > 0, taps, dropped, next };
    if (o.json) return writeJsonLines([jsonShape(status)]);
    process.stdout.write(`home: ${status.home}\n\nbus topics\n`);
    process.stdout.write(renderTable(['topic', 'records', 'last offset'], bus.topics.map((t) => [t.topic, t.records, t.lastOffset])));
    process.stdout.write('\nconsumer groups\n');
    process.stdout.write(bus.groups.length ? renderTable(['group', 'topic', 'committed', 'lag'], bus.groups.map((g) => [g.group, g.topic, g.committed, g.lag])) : '(none)\n');
    process.stdout.write(`\ndetectors: ${detector.running ? `${detector.lag} event${detector.lag === 1 ? '' : 's'} behind` : 'have not run on this home'}\n`);
    const lossy = taps.filter((t) => t.dropped > 0 || t.unobservedBytes > 0).length;
    process.stdout.write(`\ntaps (${taps.filter((t) => t.state === 'open').length} open, ${gone.length} ended unrecorded; ${dropped} events dropped in all, ${lossy} session${lossy === 1 ? '' : 's'} with losses)\n`);
    process.stdout.write(renderTable(['session', 'server', 'pid', 'state', 'events', 'dropped', 'unobserved bytes', 'last seen'], taps.map((t) => [t.session.slice(0, 8), t.server, t.pid, t.state, t.events, t.dropped, t.unobservedBytes, shortTime(t.lastSeen)])));
    if (next.length > 0) process.stdout.write(`\nnext:\n${next.map((n) => `  - ${n}\n`).join('')}`);
  });
}

