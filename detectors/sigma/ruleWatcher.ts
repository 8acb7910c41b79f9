/**
 * Keeps a RuleSet in step with its directory: fs.watch (recursive where the platform has it, else one watcher
 * per directory) triggers a debounced reload within a fraction of a second, and a node-cron re-scan every N
 * seconds catches what watching misses (network file systems, editors that swap directories, a watcher that
 * died). The re-scan is cheap when nothing changed: RuleSet.reload() only stats the files.
 */
import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { schedule, type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { Logger } from '../../pipeline/logger.js';
import type { RuleSet } from './ruleSet.js';

export interface RuleWatcherOptions {
  /** Quiet time after the last file event before reloading (default 250 ms): editors write in several steps. */
  debounceMs?: number;
  /** Seconds between fallback re-scans (default 30): a divisor of 60, or whole minutes dividing 60. */
  rescanSeconds?: number;
  /** Watch the directory with fs.watch (default true); false leaves only the periodic re-scan. */
  fsWatch?: boolean;
  logger?: Logger;
}

export type WatchMode = 'recursive' | 'per-directory' | 'off';

/** The cron expression (with seconds) that fires every `seconds` seconds. */
export function rescanSchedule(seconds: number): string {
  if (Number.isInteger(seconds) && seconds > 0 && seconds < 60 && 60 % seconds === 0) return `*/${seconds} * * * * *`;
  const minutes = seconds / 60;
  if (Number.isInteger(minutes) && minutes > 0 && minutes <= 60 && 60 % minutes === 0) return `0 */${minutes} * * * *`;
  throw new Error(`rescan interval ${seconds}s: use a divisor of 60 seconds (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) or of 60 minutes`);
}

/** node-cron's own messages (a missed run under load) go to the worker's log, never to the console. */
function cronLogger(logger: Logger | undefined): CronLogger {
  const text = (message: string | Error): string => (message instanceof Error ? message.message : message);
  return {
    info: (message) => logger?.info({ source: 'node-cron' }, message),
    warn: (message) => logger?.warn({ source: 'node-cron' }, message),
    error: (message, err) => logger?.error({ source: 'node-cron', err: err ?? message }, text(message)),
    debug: (message, err) => logger?.debug({ source: 'node-cron', err }, text(message)),
  };
}

function directoriesUnder(dir: string): string[] {
  const found = [dir];
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) found.push(...directoriesUnder(join(dir, entry.name)));
  return found;
}

/** Watches a RuleSet's directory and reloads it on change; start() and stop() it with the worker. */
export class RuleWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private task: ScheduledTask | undefined;
  private timer: NodeJS.Timeout | undefined;
  private mode: WatchMode = 'off';

  /** Watches `ruleSet`'s directory once started. */
  constructor(
    private readonly ruleSet: RuleSet,
    private readonly options: RuleWatcherOptions = {},
  ) {}

  /** How the directory is being watched. */
  get watchMode(): WatchMode {
    return this.mode;
  }

  /** Starts watching and the periodic re-scan. */
  start(): void {
    if (this.task) return;
    this.task = schedule(rescanSchedule(this.options.rescanSeconds ?? 30), () => this.rescan(), {
      name: `tapwire-rules:${this.ruleSet.dir}`,
      noOverlap: true,
      logger: cronLogger(this.options.logger),
    });
    if (this.options.fsWatch !== false) this.watch();
  }

  /** Stops watching and the re-scan; a pending debounced reload is dropped. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.mode = 'off';
    const task = this.task;
    this.task = undefined;
    await task?.destroy();
  }

  /** Reloads now; a rule problem is reported by the RuleSet, anything else is logged and retried next time. */
  private rescan(): void {
    try {
      this.ruleSet.reload();
    } catch (error) {
      this.options.logger?.error({ dir: this.ruleSet.dir, err: error }, 'rule reload failed');
    }
    // A directory created since the last scan needs its own watcher when watching per directory.
    if (this.options.fsWatch !== false && this.task) this.watch();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.rescan();
    }, this.options.debounceMs ?? 250);
  }

  /** (Re)establishes watchers; failures leave the cron re-scan in charge. */
  private watch(): void {
    if (this.mode === 'recursive') return;
    try {
      if (this.mode === 'off') {
        try {
          this.add(this.ruleSet.dir, true);
          this.mode = 'recursive';
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM') throw error;
        }
      }
      for (const dir of directoriesUnder(this.ruleSet.dir)) if (!this.watchers.has(dir)) this.add(dir, false);
      this.mode = 'per-directory';
    } catch (error) {
      this.options.logger?.warn({ dir: this.ruleSet.dir, err: error }, 'cannot watch the rule directory; relying on the periodic re-scan');
    }
  }

  private add(dir: string, recursive: boolean): void {
    const watcher = watch(dir, { recursive, persistent: false }, () => this.schedule());
    watcher.on('error', (error) => {
      // The directory went away (or the watch broke): drop it; the re-scan re-creates watchers.
      this.options.logger?.warn({ dir, err: error }, 'rule directory watch failed');
      watcher.close();
      this.watchers.delete(dir);
      if (recursive) this.mode = 'off';
    });
    this.watchers.set(dir, watcher);
  }
}
