/**
 * `tapwire replay FILE`: runs the rule pack and every stateful detector over a transcript or event NDJSON file,
 * exactly as the live worker would, and writes the alerts to stdout as NDJSON. State is fresh (in memory) unless
 * --state DIR keeps it in DIR/state.sqlite, where a later replay (or `tapwire approve --state DIR`) picks it up.
 */
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { Redactor } from '../../collectors/redaction.js';
import { TranscriptError, TranscriptReader } from '../../collectors/transcriptReader.js';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import { resolveHome } from '../../pipeline/home.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { loadDetection } from '../detectionSetup.js';
import { ProgressLine } from '../progressLine.js';
import { ALLOW_EMPTY_HELP, ALLOW_EMPTY_OPTION, requireRules } from '../ruleGuard.js';
import { parseCommand, UsageError } from '../usage.js';

const spec = {
  name: 'replay',
  summary:
    'Replays a transcript or event NDJSON file through the Sigma rule pack and every stateful detector, exactly as\n' +
    'live. Alerts go to stdout as NDJSON, a summary to stderr; a bad line is reported as FILE:LINE and skipped.',
  usage: 'tapwire replay FILE [--state DIR] [--inventory FILE] [--rules DIR] [--home DIR] [--allow-empty]',
  details: `Options:
  --state DIR        keep detector state in DIR/state.sqlite (default: fresh, in memory)
  --inventory FILE   approved-server inventory (YAML)
  --rules DIR        Sigma rule directory (default: the shipped pack)
  --home DIR         whose redaction key to redact transcripts with (default: $TAPWIRE_HOME or ~/.tapwire;
                     a one-off key when that home has none)
${ALLOW_EMPTY_HELP}

Exit status: 0, or 1 when a line of FILE could not be used.`,
  options: {
    state: { type: 'string' },
    inventory: { type: 'string' },
    rules: { type: 'string' },
    home: { type: 'string' },
    ...ALLOW_EMPTY_OPTION,
  },
  positionals: { min: 1, max: 1 },
} as const;

const BATCH = 1000;

function redactorFor(home: string | undefined): Redactor {
  const keyFile = resolveHome(home).redactionKey;
  return existsSync(keyFile) ? Redactor.forKeyFile(keyFile) : new Redactor(randomBytes(32));
}

/** The replay's counters, for the summary. */
interface ReplaySummary {
  lines: number;
  events: number;
  badLines: number;
  alerts: Map<string, number>;
}

/** Entry point of `tapwire replay`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const file = parsed.positionals[0] as string;
  const o = parsed.values;
  if (!existsSync(file) || statSync(file).isDirectory()) throw new UsageError(`${file} is not a file`);
  if (o.state) mkdirSync(o.state, { recursive: true });
  const state = new EmbeddedStateStore(o.state ? join(o.state, 'state.sqlite') : ':memory:');
  try {
    const { runtime, ruleSet } = loadDetection(state, {
      ...(o.rules ? { rules: o.rules } : {}),
      ...(o.inventory ? { inventory: o.inventory } : {}),
      onRuleError: (message) => process.stderr.write(`rule not loaded: ${message}\n`),
    });
    requireRules(ruleSet, o.rules, o['allow-empty']);
    const summary: ReplaySummary = { lines: 0, events: 0, badLines: 0, alerts: new Map() };
    const emit = (alerts: readonly McpAlert[]): void => {
      for (const alert of alerts) {
        process.stdout.write(`${JSON.stringify(alert)}\n`);
        summary.alerts.set(alert.rule.id, (summary.alerts.get(alert.rule.id) ?? 0) + 1);
      }
    };
    const progress = new ProgressLine();
    const stat = statSync(file);
    const size = stat.isFile() ? stat.size : undefined;
    const started = performance.now();
    const reader = new TranscriptReader({ file, redactor: redactorFor(o.home) });
    const stream = createReadStream(file, { encoding: 'utf8' });
    let pending: McpEvent[] = [];
    const flushBatch = (): void => {
      const batch = runtime.batch();
      emit(batch.process(pending));
      batch.commit();
      pending = [];
      const done = size ? `${progressBar(stream.bytesRead / Math.max(size, 1))} · ` : '';
      progress.update(`replay ${file}: ${done}${summary.events} events · ${[...summary.alerts.values()].reduce((a, b) => a + b, 0)} alerts`);
    };
    for await (const text of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      summary.lines += 1;
      try {
        const events = reader.line(text, summary.lines);
        summary.events += events.length;
        pending.push(...events);
      } catch (error) {
        if (!(error instanceof TranscriptError)) throw error;
        summary.badLines += 1;
        progress.clear();
        process.stderr.write(`${error.message}\n`);
      }
      if (pending.length >= BATCH) flushBatch();
    }
    flushBatch();
    const end = runtime.batch();
    emit(end.release());
    emit(end.flush());
    end.commit();
    progress.clear();
    writeSummary(file, summary, (performance.now() - started) / 1000);
    return summary.badLines > 0 ? 1 : 0;
  } finally {
    state.close();
  }
}

/** A 20-cell bar and percentage for a fraction done. */
function progressBar(fraction: number): string {
  const cells = Math.min(20, Math.floor(fraction * 20));
  return `[${'#'.repeat(cells)}${'.'.repeat(20 - cells)}] ${Math.min(100, Math.floor(fraction * 100))}%`;
}

function writeSummary(file: string, summary: ReplaySummary, seconds: number): void {
  const total = [...summary.alerts.values()].reduce((a, b) => a + b, 0);
  const lines = [`replayed ${file}: ${summary.lines} lines, ${summary.events} events${summary.badLines > 0 ? `, ${summary.badLines} bad lines skipped` : ''} in ${seconds.toFixed(2)} s; ${total} alerts`];
  for (const [rule, count] of [...summary.alerts].sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${String(count).padStart(5)}  ${rule}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}
