/**
 * A rule directory loaded into running engines, reloadable while events flow.
 *
 * - reload() re-reads only files whose size or mtime changed, and recompiles only when a content hash did.
 * - A changed file that compiles replaces its previous version; one with errors is reported (FILE:LINE) and
 *   its previous version stays active. A new file with errors loads the rules that compile, as at startup.
 *   A deleted file takes its rules with it; a vanished directory keeps every rule and is reported.
 * - Every reload builds a new immutable snapshot and swaps it in one assignment; evaluate() always runs one
 *   whole snapshot, so no event meets a half-loaded set or is dropped.
 * - Correlation state survives a reload: each correlation (with the rules it references) runs in an engine of
 *   its own, kept as long as none of the files holding those rules changed. Stateless rules share one engine,
 *   rebuilt on every reload.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Logger } from '../../pipeline/logger.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { CompiledRule } from './compiledRule.js';
import { compileRules, type SigmaCompileOptions } from './ruleCompiler.js';
import { RuleEngine, type RuleEngineOptions, type RuleEngineStats } from './ruleEngine.js';
import { SigmaRuleError } from './ruleError.js';
import { findRuleFiles } from './ruleFiles.js';
import { EventWork, type SharedEventWork } from '../sharedEventWork.js';

export interface RuleSetOptions extends SigmaCompileOptions {
  engine?: RuleEngineOptions;
  logger?: Logger;
  /** Called after every load or reload that changed a file or found an error. */
  onReload?: (report: RuleReloadReport) => void;
}

/** What one (re)load did. */
export interface RuleReloadReport {
  added: string[];
  changed: string[];
  removed: string[];
  /** Everything rejected by this load, FILE:LINE. */
  errors: SigmaRuleError[];
  /** Changed files whose previous version stays active because the new one has errors. */
  keptPrevious: string[];
  /** Rules active after the load. */
  rules: number;
}

interface FileState {
  mtimeMs: number;
  size: number;
  /** Hash of the content last read from disk. */
  seenHash: string;
  /** The text the active rules were compiled from. */
  activeText: string;
  activeHash: string;
}

/** One correlation with everything it references, run by an engine of its own so its state can outlive reloads. */
interface CorrelationGroup {
  /** The files (and their active content hashes) its rules come from. */
  key: string;
  rules: CompiledRule[];
  engine: RuleEngine;
}

interface Snapshot {
  rules: readonly CompiledRule[];
  engines: readonly RuleEngine[];
  groups: ReadonlyMap<string, CorrelationGroup>;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Splits rules into correlation groups (connected through correlation references) and stateless rules. */
function partition(rules: readonly CompiledRule[]): { stateless: CompiledRule[]; groups: CompiledRule[][] } {
  const parent = new Map<CompiledRule, CompiledRule>(rules.map((r) => [r, r]));
  const find = (r: CompiledRule): CompiledRule => {
    let root = r;
    while (parent.get(root) !== root) root = parent.get(root) as CompiledRule;
    parent.set(r, root);
    return root;
  };
  const correlated = new Set<CompiledRule>();
  for (const rule of rules) {
    if (rule.kind !== 'correlation') continue;
    correlated.add(rule);
    for (const target of rule.rules) {
      correlated.add(target);
      parent.set(find(target), find(rule));
    }
  }
  const groups = new Map<CompiledRule, CompiledRule[]>();
  const stateless: CompiledRule[] = [];
  for (const rule of rules) {
    if (!correlated.has(rule)) {
      stateless.push(rule);
      continue;
    }
    const root = find(rule);
    groups.set(root, [...(groups.get(root) ?? []), rule]);
  }
  return { stateless, groups: [...groups.values()] };
}

/** The compiled rules of a directory, with their engines; reload() picks up edits. */
export class RuleSet {
  private readonly files = new Map<string, FileState>();
  private snapshot: Snapshot = { rules: [], engines: [], groups: new Map() };

  private constructor(
    readonly dir: string,
    private readonly options: RuleSetOptions,
  ) {}

  /** Loads every rule file under `dir`; rules that fail are reported through options.onReload and the logger. */
  static load(dir: string, options: RuleSetOptions = {}): RuleSet {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`rule directory ${dir} does not exist`);
    const set = new RuleSet(dir, options);
    set.reload();
    return set;
  }

  /** The active compiled rules. */
  get rules(): readonly CompiledRule[] {
    return this.snapshot.rules;
  }

  /** Runs the event through the active rules; returns its alerts. */
  evaluate(event: McpEvent, shared: SharedEventWork = new EventWork()): McpAlert[] {
    const engines = this.snapshot.engines;
    if (engines.length === 1) return (engines[0] as RuleEngine).evaluate(event, shared);
    return engines.flatMap((engine) => engine.evaluate(event, shared));
  }

  /** Moves event time forward without an event; returns alerts of correlation windows that closed. */
  advanceTo(timestamp: string): McpAlert[] {
    return this.snapshot.engines.flatMap((engine) => engine.advanceTo(timestamp));
  }

  /** Judges every open correlation window and clears correlation state. */
  flush(): McpAlert[] {
    return this.snapshot.engines.flatMap((engine) => engine.flush());
  }

  /** Sizes of the engines' state, summed. */
  stats(): RuleEngineStats {
    const total: RuleEngineStats = { detectionRules: 0, correlationRules: 0, correlationGroups: 0, correlationEvictions: 0, truncatedScans: 0 };
    for (const engine of this.snapshot.engines) {
      const s = engine.stats();
      total.detectionRules += s.detectionRules;
      total.correlationRules += s.correlationRules;
      total.correlationGroups += s.correlationGroups;
      total.correlationEvictions += s.correlationEvictions;
      total.truncatedScans += s.truncatedScans;
    }
    return total;
  }

  /** Re-reads the directory and swaps in the result; undefined when nothing changed. */
  reload(): RuleReloadReport | undefined {
    if (!existsSync(this.dir)) {
      const error = new SigmaRuleError(this.dir, 1, `rule directory is missing; the ${this.snapshot.rules.length} active rules stay active`);
      return this.publish({ added: [], changed: [], removed: [], errors: [error], keptPrevious: [], rules: this.snapshot.rules.length });
    }
    const { texts, added, changed, removed } = this.scan();
    if (added.length + changed.length + removed.length === 0) return undefined;
    const candidate = new Map<string, string>();
    for (const [path, state] of this.files) if (!removed.includes(path)) candidate.set(path, state.activeText);
    for (const [path, text] of texts) candidate.set(path, text);
    const { rules, errors, keptPrevious } = this.compileKeepingPrevious(candidate, changed);
    for (const path of removed) this.files.delete(path);
    for (const [path, text] of candidate) {
      const state = this.files.get(path) as FileState;
      state.activeText = text;
      state.activeHash = sha256(text);
    }
    this.snapshot = this.build(rules);
    return this.publish({ added, changed, removed, errors, keptPrevious, rules: this.snapshot.rules.length });
  }

  /** Finds new, changed (by content) and removed files; records what was read. */
  private scan(): { texts: Map<string, string>; added: string[]; changed: string[]; removed: string[] } {
    const texts = new Map<string, string>();
    const added: string[] = [];
    const changed: string[] = [];
    const present = new Set<string>();
    for (const path of findRuleFiles(this.dir)) {
      let stat;
      let text;
      try {
        stat = statSync(path);
        const state = this.files.get(path);
        if (state && state.mtimeMs === stat.mtimeMs && state.size === stat.size) {
          present.add(path);
          continue;
        }
        text = readFileSync(path, 'utf8');
      } catch (error) {
        // Deleted between listing and reading: the next scan sees it gone.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      present.add(path);
      const hash = sha256(text);
      const state = this.files.get(path);
      if (state) {
        state.mtimeMs = stat.mtimeMs;
        state.size = stat.size;
        if (state.seenHash === hash) continue;
        state.seenHash = hash;
        changed.push(path);
      } else {
        this.files.set(path, { mtimeMs: stat.mtimeMs, size: stat.size, seenHash: hash, activeText: text, activeHash: hash });
        added.push(path);
      }
      texts.set(path, text);
    }
    const removed = [...this.files.keys()].filter((path) => !present.has(path));
    return { texts, added, changed, removed };
  }

  /**
   * Compiles the candidate texts; a changed file with errors goes back to its active text and the set is
   * compiled again, until no changed file has errors (each round reverts at least one file).
   */
  private compileKeepingPrevious(candidate: Map<string, string>, changed: readonly string[]): { rules: CompiledRule[]; errors: SigmaRuleError[]; keptPrevious: string[] } {
    const reported: SigmaRuleError[] = [];
    const keptPrevious: string[] = [];
    for (;;) {
      const { rules, errors } = compileRules([...candidate].map(([path, text]) => ({ path, text })), this.options);
      const failed = new Set(errors.map((e) => e.file));
      const revert = changed.filter((path) => failed.has(path) && !keptPrevious.includes(path));
      if (revert.length === 0) {
        const seen = new Set(reported.map((e) => e.message));
        return { rules, errors: [...reported, ...errors.filter((e) => !seen.has(e.message))], keptPrevious };
      }
      for (const path of revert) {
        reported.push(...errors.filter((e) => e.file === path));
        candidate.set(path, (this.files.get(path) as FileState).activeText);
        keptPrevious.push(path);
      }
    }
  }

  /** The snapshot for `rules`, reusing the engine (and state) of every correlation group whose files are unchanged. */
  private build(rules: readonly CompiledRule[]): Snapshot {
    const { stateless, groups } = partition(rules);
    const engines: RuleEngine[] = [];
    const active: CompiledRule[] = [...stateless];
    if (stateless.length > 0) engines.push(new RuleEngine(stateless, this.options.engine));
    const kept = new Map<string, CorrelationGroup>();
    for (const members of groups) {
      const files = [...new Set(members.map((r) => r.meta.location.file))].sort();
      const key = files.map((f) => `${f}#${(this.files.get(f) as FileState).activeHash}`).join('\n');
      const group = this.snapshot.groups.get(key) ?? { key, rules: members, engine: new RuleEngine(members, this.options.engine) };
      kept.set(key, group);
      engines.push(group.engine);
      active.push(...group.rules);
    }
    return { rules: active, engines, groups: kept };
  }

  private publish(report: RuleReloadReport): RuleReloadReport {
    const log = this.options.logger;
    for (const error of report.errors) log?.warn({ file: error.file, line: error.line }, error.message);
    if (log && report.added.length + report.changed.length + report.removed.length > 0) {
      log.info({ dir: this.dir, added: report.added, changed: report.changed, removed: report.removed, keptPrevious: report.keptPrevious, rules: report.rules }, 'rules loaded');
    }
    this.options.onReload?.(report);
    return report;
  }
}
