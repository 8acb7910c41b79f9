/** `tapwire detect`: the detector worker — bus events through the rule pack and stateful detectors into alerts. */
import { recoverHomeHandoffs } from '../../collectors/stdio/handoffRecovery.js';
import { createLogger } from '../../pipeline/logger.js';
import { openHomeDetector } from '../../service/detectionSetup.js';
import { runGroupDetectorIfConfigured } from '../../service/groupDetector.js';
import { StopSignal } from '../../service/stopSignal.js';
import { RuleWatcher } from '../../detectors/sigma/ruleWatcher.js';
import { ALLOW_EMPTY_HELP, ALLOW_EMPTY_OPTION, requireRules } from '../ruleGuard.js';
import { runEmbeddedLoop } from '../../service/embeddedLoop.js';
import { parseCommand, positiveInteger } from '../usage.js';

const spec = {
  name: 'detect',
  summary:
    'Runs the detector worker: consumes MCP events from the embedded bus (consumer group "detectors"), runs the\n' +
    'Sigma rule pack and the stateful detectors, and writes alerts to the store (and the alerts topic). State and\n' +
    "position live in the home's state.sqlite: a restart resumes where the last committed batch ended, without\n" +
    'missing or repeating alerts. Stops on Ctrl-C / SIGTERM after the batch in hand.',
  usage: 'tapwire detect [--home DIR] [--config FILE] [--rules DIR] [--inventory FILE] [--once] [--batch N] [--allow-empty]',
  details: `Options:
  --home DIR         Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
  --config FILE      tapwire.yaml (default: $TAPWIRE_CONFIG, else <home>/tapwire.yaml); with a Kafka bus or an
                     Elasticsearch store the worker joins the "detectors" group (see README, Fleet scale)
  --rules DIR        Sigma rule directory (default: the shipped pack); reloaded when files change
  --inventory FILE   approved-server inventory (YAML); without it servers are trusted on first use
  --once             process what the bus holds, then exit
  --batch N          events per batch (default 500)
${ALLOW_EMPTY_HELP}`,
  options: {
    home: { type: 'string' },
    config: { type: 'string' },
    rules: { type: 'string' },
    inventory: { type: 'string' },
    once: { type: 'boolean' },
    batch: { type: 'string' },
    ...ALLOW_EMPTY_OPTION,
  },
} as const;

/** Entry point of `tapwire detect`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const logger = createLogger('tapwire-detect');
  const stop = new StopSignal();
  const recoverHandoffs = (): Promise<{ sessions: number }> => recoverHomeHandoffs({ ...(o.home ? { home: o.home } : {}), ...(o.config ? { configFile: o.config } : {}), warn: (message) => logger.warn(message) });
  await recoverHandoffs();
  const grouped = await runGroupDetectorIfConfigured(o, logger, stop);
  if (grouped !== undefined) return grouped;
  const detector = await openHomeDetector(o.home, {
    ...(o.rules ? { rules: o.rules } : {}),
    ...(o.inventory ? { inventory: o.inventory } : {}),
    batchSize: positiveInteger(o.batch, '--batch', 500),
    logger,
  });
  try {
    requireRules(detector.detection.ruleSet, o.rules, o['allow-empty']);
  } catch (error) {
    await detector.close();
    throw error;
  }
  const watcher = o.once ? undefined : new RuleWatcher(detector.detection.ruleSet, { logger });
  try {
    watcher?.start();
    logger.info({ home: detector.paths.root, position: detector.worker.committedOffset, detectors: detector.detection.runtime.detectors.map((d) => d.id), rules: detector.detection.ruleSet.rules.length }, 'detector worker started');
    await runEmbeddedLoop(detector, { logger, stop, recoverHandoffs, ...(o.once ? { once: true } : {}) });
    logger.info({ ...detector.worker.totals, position: detector.worker.committedOffset }, o.once ? 'caught up' : 'stopped');
    return 0;
  } finally {
    await watcher?.stop();
    await detector.close();
  }
}
