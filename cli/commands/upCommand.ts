/**
 * `tapwire up`: everything one machine needs, in one process — the store sync (bus → store), the detector worker,
 * the rule watcher, and scheduled jobs: detector roll-ups and pruning of bus records every consumer has processed
 * (the loop is service/embeddedLoop.ts); this command parses its options and prints each alert as it is raised.
 */
import { noticeBusReset } from '../../service/busResetNotice.js';
import { recoverHomeHandoffs } from '../../collectors/stdio/handoffRecovery.js';
import { validate } from 'node-cron';
import { RuleWatcher } from '../../detectors/sigma/ruleWatcher.js';
import { createLogger } from '../../pipeline/logger.js';
import { runEmbeddedLoop } from '../../service/embeddedLoop.js';
import { AlertFollower } from '../../service/alertView/alertFollower.js';
import { LiveAlertPrinter } from '../alertView/alertText.js';
import { openHomeDetector } from '../../service/detectionSetup.js';
import { runGroupDetectorIfConfigured } from '../../service/groupDetector.js';
import { ALLOW_EMPTY_HELP, ALLOW_EMPTY_OPTION, requireRules } from '../ruleGuard.js';
import { StopSignal } from '../../service/stopSignal.js';
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
  --rollup CRON      when detectors roll up baselines (default "*/5 * * * *": every 5 minutes; group
                     members too)
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
  const recoverHandoffs = (): Promise<{ sessions: number }> => recoverHomeHandoffs({ ...(o.home ? { home: o.home } : {}), ...(o.config ? { configFile: o.config } : {}), warn: (message) => logger.warn(message) });
  await recoverHandoffs();
  const grouped = await runGroupDetectorIfConfigured({ ...o, rollup }, logger, stop);
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
  try {
    watcher.start();
    logger.info({ home: detector.paths.root, rollup, prune, detectors: detector.detection.runtime.detectors.map((d) => d.id) }, 'tapwire up');
    process.stderr.write(
      `tapwire up: ${detector.paths.root} · ${detector.detection.ruleSet.rules.length} rules · ${detector.detection.runtime.detectors.length} stateful detectors · ` +
        'alerts print here as they are raised (Ctrl-C stops)\n',
    );
    await runEmbeddedLoop(detector, { logger, stop, recoverHandoffs, syncStore: true, rollup, prune, afterAlerts: () => follower.drain(printAlert) });
    logger.info({ ...worker.totals }, 'stopped');
    process.stderr.write(`tapwire up: stopped after ${worker.totals.events} events and ${worker.totals.newAlerts} new alerts\n`);
    return 0;
  } finally {
    await watcher.stop();
    await detector.close();
  }
}
