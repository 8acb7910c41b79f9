/**
 * `tapwire status`: is telemetry flowing and is it being looked at? Bus depth, each tap's session with what it lost,
 * open sessions whose tap is gone, the spool, how far the detectors are behind, and what to run next (computed by
 * service/pipelineStatus.ts from the configured bus and store).
 */
import { withConfiguredStore } from '../../service/configuredStore.js';
import { pipelineStatus } from '../../service/pipelineStatus.js';
import { renderTable, shortTime, writeJsonLines } from '../commandOutput.js';
import { jsonShape } from '../jsonShape.js';
import { STORE_CHOICE_OPTIONS, storeChoice, storeChoiceHelp } from '../storeChoice.js';
import { parseCommand } from '../usage.js';

const spec = {
  name: 'status',
  summary:
    "Shows the bus depth, each tap session's counters and losses, open sessions whose tap is gone, the collectors'\n" +
    "spool, the detectors' lag, and what to run next.",
  usage: 'tapwire status [--json] [--home DIR] [--store S] [--config FILE]',
  details: `Options:
  --json          one JSON document (snake_case fields, ISO times)
  --home DIR      Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
${storeChoiceHelp(18)}`,
  options: { json: { type: 'boolean' }, home: { type: 'string' }, ...STORE_CHOICE_OPTIONS },
} as const;

/** Entry point of `tapwire status`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  return withConfiguredStore(storeChoice(o), async (opened) => {
    const status = await pipelineStatus(opened, o.home);
    if (o.json) return writeJsonLines([jsonShape(status)]);
    const { bus, detector, taps, spool } = status;
    process.stdout.write(`home: ${status.home}\nbus: ${status.busKind} · store: ${status.storeKind}\n\nbus topics${status.busKind === 'kafka' ? ' (summed over partitions)' : ''}\n`);
    process.stdout.write(bus.topics.length ? renderTable(['topic', 'records', 'last offset'], bus.topics.map((t) => [t.topic, t.records, t.lastOffset])) : '(none)\n');
    process.stdout.write('\nconsumer groups\n');
    process.stdout.write(bus.groups.length ? renderTable(['group', 'topic', 'committed', 'lag'], bus.groups.map((g) => [g.group, g.topic, g.committed, g.lag])) : '(none)\n');
    process.stdout.write(`\ndetectors: ${detector.running ? `${detector.lag} event${detector.lag === 1 ? '' : 's'} behind` : 'have not run on this home'}\n`);
    process.stdout.write(`spool: ${spool ? `${spool.records} record${spool.records === 1 ? '' : 's'} waiting (${spool.bytes} bytes; ${spool.dropped} dropped when full) in ${spool.file}` : 'none'}\n`);
    const gone = taps.filter((t) => t.state === 'ended unrecorded').length;
    const lossy = taps.filter((t) => t.dropped > 0 || t.unobservedBytes > 0).length;
    process.stdout.write(`\ntaps (${taps.filter((t) => t.state === 'open').length} open, ${gone} ended unrecorded; ${status.dropped} events dropped in all, ${lossy} session${lossy === 1 ? '' : 's'} with losses)\n`);
    process.stdout.write(renderTable(['session', 'server', 'pid', 'state', 'events', 'dropped', 'unobserved bytes', 'last seen'], taps.map((t) => [t.session.slice(0, 8), t.server, t.pid, t.state, t.events, t.dropped, t.unobservedBytes, shortTime(t.lastSeen)])));
    if (status.next.length > 0) process.stdout.write(`\nnext:\n${status.next.map((n) => `  - ${n}\n`).join('')}`);
  });
}
