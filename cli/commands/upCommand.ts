/**
 * `tapwire up`: everything one machine needs, in one process — the store sync (bus → store), the detector worker,
 * the rule watcher, and scheduled jobs (node-cron): detector roll-ups (Detector.onTick at the event-time watermark)
 * and pruning of bus records every consumer has processed. Jobs only raise flags; the main loop runs them between
 * batches, so nothing touches the state or the store concurrently.
 */
import { noticeBusReset } from '../busResetNotice.js';
import { recoverHomeHandoffs } from '../../collectors/stdio/handoffRecovery.js';
import { schedule, validate, type ScheduledTask } from 'node-cron';
import { RuleWatcher } from '../../detectors/sigma/ruleWatcher.js';
import { TOPICS } from '../../pipeline/bus.js';
import { createLogger } from '../../pipeline/logger.js';
import { syncStoreFromBus } from '../../pipeline/storeSync.js';
import { AlertFollower } from '../alertView/alertFollower.js';
import { LiveAlertPrinter } from '../alertView/alertText.js';
import { openHomeDetector } from '../detectionSetup.js';
import { runGroupDetectorIfConfigured } from '../groupDetector.js';
import { ALLOW_EMPTY_HELP, ALLOW_EMPTY_OPTION, requireRules } from '../ruleGuard.js';
import { StopSignal } from '../stopSignal.js';
import { parseCommand, UsageError } from '../usage.js';

const spec = {
  name: 'up',
  summary:
    'Runs the embedded pipeline of this machine in one process: store sync, detector worker, rule reloads, and\n' +
    'scheduled jobs (baseline roll-ups, bus pruning). Prints each alert on stdout as it is raised; logs only\n' +
    'warnings and errors unless --verbose. Stops cleanly on Ctrl-C / SIGTERM.',
  usage: 'tapwire up [--home DIR] [--config FILE] [--rules DIR] [--inventory FILE] [--rollup CRON] [--prune CRON] [--verbose] [--allow-empty]',
  details: `Options:
  --home DIR         Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
  --config FILE      tapwire.yaml (default: $TAPWIRE_CONFIG, else <home>/tapwire.yaml); with a Kafka bus or an
                     Elasticsearch store, runs a member of the "detectors" group instead (see README, Fleet scale)
  --rules DIR        Sigma rule directory (default: the shipped pack); reloaded when files change
  --inventory FILE   approved-server inventory (YAML)
  --rollup CRON      when detectors roll up baselines (default "*/5 * * * *": every 5 minutes)
  --prune CRON       when consumed bus records are deleted (default "17 * * * *": hourly)
  --verbose          also log progress (rule files loaded, roll-ups, pruning) as JSON on stderr
${ALLOW_EMPTY_HELP}`,
  options: {
    home: { type: 'string' },
    config: { type: 'string' },
    rules: { type: 'string' },
    inventory: { type: 'string' },
    rollup: { type: 'string' },
    prune: { type: 'string' },
    verbose: { type: 'boolean' },
    ...ALLOW_EMPTY_OPTION,
  },
} as const;

const IDLE_POLL_MS = 250;
/** Records kept behind the detector position for the rule pack's warm-up after a restart. */
const KEEP_BEHIND = 10_000;

function cronOption(value: string | undefined, option: string, fallback: string): string {
  const expression = value ?? fallback;
  if (!validate(expression)) throw new UsageError(`${option}: '${expression}' is not a cron expression`);
  return expression;
}

/** Entry point of `tapwire up`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const rollup = cronOption(o.rollup, '--rollup', '*/5 * * * *');
  const prune = cronOption(o.prune, '--prune', '17 * * * *');
  const logger = createLogger('tapwire-up', o.verbose ? 'info' : 'warn');
  const stop = new StopSignal();
  await recoverHomeHandoffs({ ...(o.home ? { home: o.home } : {}), ...(o.config ? { configFile: o.config } : {}), warn: (message) => logger.warn(message) });
  const grouped = await runGroupDetectorIfConfigured(o, logger, stop);
  if (grouped !== undefined) return grouped;
  const detector = await openHomeDetector(o.home, { ...(o.rules ? { rules: o.rules } : {}), ...(o.inventory ? { inventory: o.inventory } : {}), logger });
  const { bus, store, worker } = detector;
  await noticeBusReset(bus, store, (message) => logger.warn(message));
  let follower: AlertFollower;
  try {
    requireRules(detector.detection.ruleSet, o.rules, o['allow-empty']);
    follower = await AlertFollower.open(bus);
  } catch (error) {
    await detector.close();
    throw error;
  }
  const printer = new LiveAlertPrinter();
  const printAlert = (alert: Parameters<LiveAlertPrinter['line']>[0]): void => void process.stdout.write(printer.line(alert));
  const watcher = new RuleWatcher(detector.detection.ruleSet, { logger });
  const due = { rollup: false, prune: false };
  const tasks: ScheduledTask[] = [
    schedule(rollup, () => void (due.rollup = true), { name: 'tapwire-rollup', noOverlap: true }),
    schedule(prune, () => void (due.prune = true), { name: 'tapwire-prune', noOverlap: true }),
  ];
  try {
    watcher.start();
    logger.info({ home: detector.paths.root, rollup, prune, detectors: detector.detection.runtime.detectors.map((d) => d.id) }, 'tapwire up');
    process.stderr.write(
      `tapwire up: ${detector.paths.root} · ${detector.detection.ruleSet.rules.length} rules · ${detector.detection.runtime.detectors.length} stateful detectors · ` +
        'alerts print here as they are raised (Ctrl-C stops)\n',
    );
    while (!stop.stopping) {
      const synced = await syncStoreFromBus(bus, store);
      if (synced.deadLettered > 0) logger.warn({ deadLettered: synced.deadLettered }, 'invalid events moved to the dead-letter topic');
      let read = 0;
      while (!stop.stopping && (read = await worker.step()) > 0) await follower.drain(printAlert);
      if (due.rollup) {
        due.rollup = false;
        const alerts = await worker.tick();
        logger.info({ alerts }, 'roll-up done');
        await follower.drain(printAlert);
      }
      if (due.prune) {
        due.prune = false;
        const pruned = bus.prune(TOPICS.events, worker.committedOffset - KEEP_BEHIND);
        logger.info({ pruned }, 'bus pruned');
      }
      if (read === 0) {
        await worker.releaseHeld(Date.now() - detector.detection.runtime.reorder.latenessMs);
        await follower.drain(printAlert);
        await stop.sleep(IDLE_POLL_MS);
      }
    }
    await follower.drain(printAlert);
    logger.info({ ...worker.totals }, 'stopped');
    process.stderr.write(`tapwire up: stopped after ${worker.totals.events} events and ${worker.totals.newAlerts} new alerts\n`);
    return 0;
  } finally {
    for (const task of tasks) await task.destroy();
    await watcher.stop();
    await detector.close();
  }
}
