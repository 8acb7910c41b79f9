/**
 * Compiles Sigma rule sources (files of one or more YAML documents) into runnable rules. Each rule is accepted
 * or rejected on its own, with FILE:LINE errors; correlations are resolved across all sources, and a rule that
 * produces alerts must carry a level and exactly one tapwire.category.* tag.
 */
import { CATEGORY_TAG_PREFIX, tapwireCategories } from './categoryTag.js';
import { DEFAULT_CORRELATION_LIMITS, type CompiledCorrelationRule, type CompiledRule, type CorrelationLimits } from './compiledRule.js';
import { correlationFieldName } from './correlationTracker.js';
import { compileDetection } from './detectionCompiler.js';
import type { ItemCompileOptions } from './detectionItem.js';
import { parseYamlDocuments } from './positionedYaml.js';
import { SigmaRuleError } from './ruleError.js';
import type { SigmaCorrelationRule, SigmaRule } from './ruleModel.js';
import { parseRuleDocument } from './ruleParser.js';

/** One rule file's text and the path errors should name. */
export interface RuleSource {
  path: string;
  text: string;
}

export interface SigmaCompileOptions {
  /** Values for `%name%` placeholders in values with the `expand` modifier. */
  placeholders?: Readonly<Record<string, readonly string[]>>;
  /** Longest input (characters) a `re` value sees; longer values are cut. Default 262,144. */
  maxRegexInput?: number;
  /** Bounds on correlation state. */
  correlation?: Partial<CorrelationLimits>;
}

export interface CompileResult {
  /** Accepted rules, in source order. */
  rules: CompiledRule[];
  /** One error per rejected rule (or YAML document). */
  errors: SigmaRuleError[];
}

const DEFAULT_MAX_REGEX_INPUT = 262_144;

class RuleSetCompiler {
  readonly errors: SigmaRuleError[] = [];
  private readonly byReference = new Map<string, SigmaRule>();
  private readonly compiled = new Map<SigmaRule, CompiledRule>();
  private readonly visiting = new Set<SigmaRule>();
  private readonly itemOptions: ItemCompileOptions;
  private readonly limits: CorrelationLimits;

  constructor(options: SigmaCompileOptions) {
    const placeholders = options.placeholders ?? {};
    this.itemOptions = {
      file: '',
      placeholders: (name) => (Object.hasOwn(placeholders, name) ? placeholders[name] : undefined),
      maxRegexInput: options.maxRegexInput ?? DEFAULT_MAX_REGEX_INPUT,
    };
    this.limits = { ...DEFAULT_CORRELATION_LIMITS, ...options.correlation };
  }

  private reject(error: unknown): void {
    if (!(error instanceof SigmaRuleError)) throw error;
    this.errors.push(error);
  }

  /** Parses, compiles and resolves every rule of the sources. */
  compile(sources: readonly RuleSource[]): CompiledRule[] {
    const rules = this.parse(sources);
    for (const rule of rules) {
      if (rule.kind !== 'detection') continue;
      try {
        const detection = compileDetection(rule, { ...this.itemOptions, file: rule.meta.location.file });
        this.compiled.set(rule, { kind: 'detection', meta: rule.meta, logsourceCategory: rule.logsource.category, detection, alerts: true });
      } catch (error) {
        this.reject(error);
      }
    }
    for (const rule of rules) if (rule.kind === 'correlation') this.resolveCorrelation(rule);
    return this.settleAlerting(rules);
  }

  private parse(sources: readonly RuleSource[]): SigmaRule[] {
    const rules: SigmaRule[] = [];
    for (const source of sources) {
      const { documents, errors } = parseYamlDocuments(source.path, source.text);
      this.errors.push(...errors);
      for (const document of documents) {
        try {
          const rule = parseRuleDocument(source.path, document);
          const { id, name, location } = rule.meta;
          for (const reference of [id, name]) {
            if (reference !== undefined && this.byReference.has(reference)) throw new SigmaRuleError(location.file, location.line, `rule id or name '${reference}' is already used by another rule`);
          }
          this.byReference.set(id, rule);
          if (name !== undefined) this.byReference.set(name, rule);
          rules.push(rule);
        } catch (error) {
          this.reject(error);
        }
      }
    }
    return rules;
  }

  private resolveCorrelation(rule: SigmaCorrelationRule): CompiledRule | undefined {
    const done = this.compiled.get(rule);
    if (done) return done;
    this.visiting.add(rule);
    try {
      const file = rule.meta.location.file;
      const targets = rule.rules.map(({ ref, line }) => {
        const target = this.byReference.get(ref);
        if (!target) throw new SigmaRuleError(file, line, `correlation references rule '${ref}', which is not defined`);
        if (this.visiting.has(target)) throw new SigmaRuleError(file, line, `correlation rules form a cycle through '${ref}'`);
        const compiled = target.kind === 'detection' ? this.compiled.get(target) : this.resolveCorrelation(target);
        if (!compiled) throw new SigmaRuleError(file, line, `correlation references rule '${ref}', which was rejected`);
        return compiled;
      });
      this.checkAliases(rule, targets);
      this.checkChaining(rule, targets);
      this.checkLimits(rule);
      const compiled: CompiledCorrelationRule = { kind: 'correlation', meta: rule.meta, definition: rule, rules: targets, limits: this.limits, alerts: true };
      this.compiled.set(rule, compiled);
      return compiled;
    } catch (error) {
      this.reject(error);
      return undefined;
    } finally {
      this.visiting.delete(rule);
    }
  }

  private checkAliases(rule: SigmaCorrelationRule, targets: readonly CompiledRule[]): void {
    const { file, line } = rule.meta.location;
    const references = new Set(targets.flatMap((t) => [t.meta.id, t.meta.name]));
    for (const [alias, fields] of rule.aliases) {
      for (const ruleName of fields.keys()) if (!references.has(ruleName)) throw new SigmaRuleError(file, line, `alias '${alias}' maps rule '${ruleName}', which the correlation does not reference`);
      for (const target of targets) {
        if (!fields.has(target.meta.name ?? '') && !fields.has(target.meta.id)) throw new SigmaRuleError(file, line, `alias '${alias}' has no field for rule '${target.meta.name ?? target.meta.id}'`);
      }
    }
  }

  /** A correlation over another correlation can only read that one's group-by values. */
  private checkChaining(rule: SigmaCorrelationRule, targets: readonly CompiledRule[]): void {
    const names = rule.valueField === undefined ? rule.groupBy : [...rule.groupBy, rule.valueField];
    for (const target of targets) {
      if (target.kind !== 'correlation') continue;
      for (const name of names) {
        const field = correlationFieldName(rule, name, target.meta);
        if (!target.definition.groupBy.includes(field)) {
          const { file, line } = rule.meta.location;
          throw new SigmaRuleError(file, line, `correlation reads '${field}' from correlation '${target.meta.name ?? target.meta.id}', which does not group by it`);
        }
      }
    }
  }

  private checkLimits(rule: SigmaCorrelationRule): void {
    if (rule.type !== 'event_count' && rule.type !== 'value_count') return;
    const { gt, gte, lt, lte, eq } = rule.bounds;
    const largest = Math.max(gt === undefined ? 0 : gt + 1, gte ?? 0, lt === undefined ? 0 : lt - 1, lte ?? 0, eq ?? 0);
    if (largest > this.limits.maxEventsPerGroup) {
      const { file, line } = rule.meta.location;
      throw new SigmaRuleError(file, line, `correlation.condition counts up to ${largest}, above the engine's maxEventsPerGroup (${this.limits.maxEventsPerGroup})`);
    }
  }

  /**
   * A rule alerts unless correlations reference it and none of them sets generate; such rules need a level
   * and a category. A correlation over a rule rejected here is rejected too.
   */
  private settleAlerting(rules: readonly SigmaRule[]): CompiledRule[] {
    const referencedBy = new Map<SigmaRule, SigmaCorrelationRule[]>();
    for (const rule of rules) {
      if (rule.kind !== 'correlation') continue;
      for (const { ref } of rule.rules) {
        const target = this.byReference.get(ref);
        if (target) referencedBy.set(target, [...(referencedBy.get(target) ?? []), rule]);
      }
    }
    const rejected = new Set<CompiledRule>();
    for (const rule of rules) {
      const compiled = this.compiled.get(rule);
      if (!compiled) continue;
      const users = referencedBy.get(rule);
      compiled.alerts = !users || users.some((u) => u.generate);
      const problem = compiled.alerts ? this.alertingProblem(compiled) : undefined;
      if (problem) {
        this.errors.push(new SigmaRuleError(rule.meta.location.file, rule.meta.location.line, problem));
        rejected.add(compiled);
      }
    }
    let changed = true;
    while (changed) {
      changed = false;
      for (const compiled of this.compiled.values()) {
        if (compiled.kind !== 'correlation' || rejected.has(compiled)) continue;
        const index = compiled.rules.findIndex((t) => rejected.has(t));
        if (index < 0) continue;
        const ref = compiled.definition.rules[index] as { ref: string; line: number };
        this.errors.push(new SigmaRuleError(compiled.meta.location.file, ref.line, `correlation references rule '${ref.ref}', which was rejected`));
        rejected.add(compiled);
        changed = true;
      }
    }
    return rules.map((r) => this.compiled.get(r)).filter((c): c is CompiledRule => c !== undefined && !rejected.has(c));
  }

  private alertingProblem(rule: CompiledRule): string | undefined {
    if (rule.meta.category === undefined) {
      return `rule '${rule.meta.title}' produces alerts, so it needs exactly one ${CATEGORY_TAG_PREFIX}<name> tag (${tapwireCategories().join(', ')})`;
    }
    if (rule.meta.level === undefined) return `rule '${rule.meta.title}' produces alerts, so it needs a level (informational, low, medium, high, critical)`;
    return undefined;
  }
}

/** Compiles rule sources; every rule is accepted or rejected on its own (errors say FILE:LINE). */
export function compileRules(sources: readonly RuleSource[], options: SigmaCompileOptions = {}): CompileResult {
  const compiler = new RuleSetCompiler(options);
  const rules = compiler.compile(sources);
  return { rules, errors: compiler.errors };
}
