/**
 * `tapwire rules export --format kibana`: Sigma rules as Kibana detection-engine rules, NDJSON for
 * `POST /api/detection_engine/rules/_import`, querying the MCP event data streams.
 *
 * - A detection rule becomes a query rule in Lucene syntax (luceneTranslator.ts), the language every
 *   Elasticsearch distribution runs, with regular expressions that match exactly what the engine matches
 *   (case folding, wildcards, RE2 regexes with their assertions). rules/EXPORT.md compares it with pySigma.
 * - event_count and value_count correlations over one rule become threshold rules on that Lucene query (with a
 *   cardinality for value_count); Kibana counts per run over a window of the timespan, not a sliding window.
 * - temporal_ordered correlations become EQL sequences with maxspan = timespan.
 * - Everything else is skipped with the reason. Rules that only feed correlations raise no alert, so they are
 *   skipped too.
 * - Only when asked (allowWidened): a rule refused only because a regex's automaton is too large for Lucene is
 *   exported with bounded gaps of that regex made unbounded (regexWidening.ts), a superset of the rule that is
 *   tagged WIDENED_TAG and says in its description which bounds it widened.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../pipeline/packagePaths.js';
import type { CompiledCorrelationRule, CompiledRule } from './compiledRule.js';
import { correlationFieldName } from './correlationTracker.js';
import { detectionQueryOf, queryFields, UntranslatableRuleError, type QueryField, type QueryNode } from './detectionQuery.js';
import { elasticFieldOf } from './elasticFieldTypes.js';
import { eqlField, toEql } from './eqlTranslator.js';
import { kibanaThreatOf, type KibanaThreat } from './kibanaThreat.js';
import { toLucene, type RegexWidening } from './luceneTranslator.js';
import { parseYamlDocuments, type YamlMapNode } from './positionedYaml.js';
import { compileRules, type RuleSource, type SigmaCompileOptions } from './ruleCompiler.js';
import { SigmaRuleError } from './ruleError.js';
import type { SigmaDetectionRule, SigmaLevel, SigmaRule } from './ruleModel.js';
import { parseRuleDocument } from './ruleParser.js';

/** Where Tapwire's events are indexed (docs/ARCHITECTURE.md: data stream logs-mcp.messages-<namespace>). */
export const MCP_EVENTS_INDEX = 'logs-mcp.messages-*';

export interface KibanaExportOptions extends SigmaCompileOptions {
  /** Index patterns the rules query; default logs-mcp.messages-*. */
  index?: readonly string[];
  /** Export rules refused only for a regex's automaton size in widened form (a superset of the rule); default: refuse them. */
  allowWidened?: boolean;
}

/** The Kibana tag of a rule exported in widened form: it alerts on more than the Tapwire rule. */
export const WIDENED_TAG = 'tapwire:widened';

/** A Kibana detection rule in the import format. */
export interface KibanaRule {
  rule_id: string;
  name: string;
  description: string;
  type: 'query' | 'eql' | 'threshold';
  language: 'lucene' | 'eql';
  query: string;
  index: string[];
  severity: 'low' | 'medium' | 'high' | 'critical';
  risk_score: number;
  risk_score_mapping: [];
  severity_mapping: [];
  threshold?: { field: string[]; value: number; cardinality?: { field: string; value: number }[] };
  tags: string[];
  references: string[];
  false_positives: string[];
  threat: KibanaThreat[];
  author: string[];
  license: string;
  version: number;
  from: string;
  interval: string;
  max_signals: number;
  enabled: boolean;
  required_fields: { name: string; type: string }[];
  exceptions_list: [];
  actions: [];
}

/** A rule the export leaves out, and why. */
export interface SkippedRule {
  file: string;
  line: number;
  id: string;
  title: string;
  reason: string;
}

/** A rule exported in widened form, and what its query widened. */
export interface WidenedRule {
  file: string;
  line: number;
  id: string;
  title: string;
  widenings: RegexWidening[];
}

export interface KibanaExport {
  /** Every exported rule, the widened ones included. */
  rules: KibanaRule[];
  /** The exported rules whose query is a superset of the rule (only with allowWidened). */
  widened: WidenedRule[];
  skipped: SkippedRule[];
  /** Rules the engine rejects (nothing is exported for them). */
  errors: SigmaRuleError[];
  /** Non-fatal remarks, e.g. a technique tag without a tactic mapping. */
  notes: string[];
}

/** The same bands as Tapwire's own alerts (event.severity / event.risk_score), so both rank alike. */
const SEVERITY: Record<SigmaLevel, { severity: KibanaRule['severity']; risk: number }> = {
  informational: { severity: 'low', risk: 10 },
  low: { severity: 'low', risk: 21 },
  medium: { severity: 'medium', risk: 47 },
  high: { severity: 'high', risk: 73 },
  critical: { severity: 'critical', risk: 99 },
};

/** Single-event rules run every 5 minutes over the last 6 (a minute of overlap for late events). */
const QUERY_INTERVAL_S = 300;
const QUERY_LOOKBACK_S = 360;
const MAX_SIGNALS = 100;

/** A rule's query, its language, and the fields it reads (for required_fields). */
type RuleQuery = Pick<KibanaRule, 'type' | 'language' | 'query'> & { fields: QueryField[]; widenings: RegexWidening[] };

interface ParsedDocument {
  rule: SigmaRule;
  root: YamlMapNode;
}

function texts(root: YamlMapNode, key: string): string[] {
  const node = root.entries.find((e) => e.key === key)?.value;
  if (!node) return [];
  const items = node.kind === 'seq' ? node.items : [node];
  return items.flatMap((item) => (item.kind === 'scalar' && item.value !== null ? [String(item.value)] : []));
}

function packageLicense(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { license: string }).license;
}

/** Kibana's rule version: the modified (else creation) date as YYYYMMDD, so an edited rule overwrites the old. */
function versionOf(date: string | undefined): number {
  const digits = date?.replace(/[^0-9]/g, '') ?? '';
  return /^[0-9]{8}$/.test(digits) ? Number(digits) : 1;
}

function seconds(ms: number): string {
  return `${Math.ceil(ms / 1000)}s`;
}

class KibanaExporter {
  readonly result: KibanaExport = { rules: [], widened: [], skipped: [], errors: [], notes: [] };
  /** Parsed rules by id, for what compiled rules do not keep: the detection tree and the YAML (falsepositives, license). */
  private readonly documents = new Map<string, ParsedDocument>();
  private readonly index: string[];
  private readonly license = packageLicense();

  constructor(private readonly options: KibanaExportOptions) {
    this.index = [...(options.index ?? [MCP_EVENTS_INDEX])];
  }

  run(sources: readonly RuleSource[]): KibanaExport {
    for (const source of sources) {
      for (const document of parseYamlDocuments(source.path, source.text).documents) {
        if (document.root.kind !== 'map') continue;
        try {
          const rule = parseRuleDocument(source.path, document);
          // With a duplicate id the compiler keeps the first rule, and so does this map.
          if (!this.documents.has(rule.meta.id)) this.documents.set(rule.meta.id, { rule, root: document.root });
        } catch (error) {
          // The compiler reports this document below; an unparsable rule is never exported.
          if (!(error instanceof SigmaRuleError)) throw error;
        }
      }
    }
    const { rules, errors } = compileRules(sources, this.options);
    this.result.errors = errors;
    for (const rule of rules) {
      try {
        this.result.rules.push(this.export(rule));
      } catch (error) {
        if (!(error instanceof UntranslatableRuleError)) throw error;
        const { file, line } = rule.meta.location;
        this.result.skipped.push({ file, line: error.line ?? line, id: rule.meta.id, title: rule.meta.title, reason: error.reason });
      }
    }
    return this.result;
  }

  private export(rule: CompiledRule): KibanaRule {
    if (!rule.alerts) throw new UntranslatableRuleError('it only feeds correlation rules (none sets generate: true), so it raises no alert of its own');
    if (rule.kind === 'detection') {
      const query = this.singleEvent(this.detectionOf(rule.meta.id));
      return this.kibanaRule(rule, query);
    }
    return this.correlation(rule);
  }

  private detectionOf(id: string): SigmaDetectionRule {
    const parsed = this.documents.get(id)?.rule;
    if (parsed?.kind !== 'detection') throw new UntranslatableRuleError(`rule '${id}' is a correlation; correlations over correlations have no Kibana form`);
    return parsed;
  }

  /** The detection as a Lucene query. */
  private singleEvent(rule: SigmaDetectionRule): RuleQuery {
    const tree = detectionQueryOf(rule, this.options);
    const { query, widenings } = toLucene(tree, { allowWidened: this.options.allowWidened === true });
    return { type: 'query', language: 'lucene', query, fields: queryFields(tree), widenings };
  }

  private correlation(rule: CompiledCorrelationRule): KibanaRule {
    const { definition } = rule;
    const { gt, gte, lt, lte, eq } = definition.bounds;
    if (lt !== undefined || lte !== undefined || eq !== undefined) throw new UntranslatableRuleError(`${definition.type} with an upper bound (lt, lte, eq): Kibana rules only test "at least N"`);
    const least = Math.max(gte ?? 0, gt === undefined ? 0 : gt + 1, 1);
    switch (definition.type) {
      case 'event_count':
      case 'value_count':
        return this.threshold(rule, least);
      case 'temporal_ordered':
        return this.sequence(rule, least);
      case 'temporal':
        throw new UntranslatableRuleError('temporal (any order) correlation: EQL sequences are ordered and threshold rules count a single query');
    }
  }

  private threshold(rule: CompiledCorrelationRule, least: number): KibanaRule {
    const { definition } = rule;
    const [target, ...others] = rule.rules;
    if (!target || others.length > 0) throw new UntranslatableRuleError(`${definition.type} over ${rule.rules.length} rules: a threshold rule counts the matches of one query`);
    const single = this.singleEvent(this.detectionOf(target.meta.id));
    const groupBy = definition.groupBy.map((name) => this.correlationField(rule, name, target).name);
    const threshold: NonNullable<KibanaRule['threshold']> =
      definition.type === 'value_count'
        ? { field: groupBy, value: 1, cardinality: [{ field: this.correlationField(rule, definition.valueField as string, target).name, value: least }] }
        : { field: groupBy, value: least };
    const span = seconds(definition.timespanMs);
    return { ...this.kibanaRule(rule, { ...single, type: 'threshold' }, { from: `now-${span}`, interval: span }), threshold };
  }

  private sequence(rule: CompiledCorrelationRule, least: number): KibanaRule {
    const { definition } = rule;
    if (least !== rule.rules.length) throw new UntranslatableRuleError(`temporal_ordered needing ${least} of ${rule.rules.length} rules: an EQL sequence needs every step`);
    const fields: QueryField[] = [];
    const steps = rule.rules.map((target) => {
      const tree: QueryNode = detectionQueryOf(this.detectionOf(target.meta.id), this.options);
      fields.push(...queryFields(tree));
      const keys = definition.groupBy.map((name) => {
        const field = this.correlationField(rule, name, target);
        if (field.type === 'flattened') throw new UntranslatableRuleError(`group-by '${field.name}' is a flattened field, which EQL cannot join on`);
        return eqlField(field.name);
      });
      return `  [any where ${toEql(tree)}]${keys.length > 0 ? ` by ${keys.join(', ')}` : ''}`;
    });
    const maxspan = seconds(definition.timespanMs);
    const query = `sequence with maxspan=${maxspan}\n${steps.join('\n')}`;
    // Each run looks back one interval plus the longest sequence, so a sequence straddling two runs is seen.
    const lookback = QUERY_INTERVAL_S + Math.ceil(definition.timespanMs / 1000);
    return this.kibanaRule(rule, { type: 'eql', language: 'eql', query, fields, widenings: [] }, { from: `now-${lookback}s`, interval: `${QUERY_INTERVAL_S}s` });
  }

  /** The field a correlation reads as `name` from the events of `target` (its alias, else the name itself). */
  private correlationField(rule: CompiledCorrelationRule, name: string, target: CompiledRule): QueryField {
    const field = elasticFieldOf(correlationFieldName(rule.definition, name, target.meta));
    if ('missing' in field) throw new UntranslatableRuleError(`correlation field ${field.missing}`);
    return field;
  }

  private kibanaRule(rule: CompiledRule, query: RuleQuery, schedule?: { from: string; interval: string }): KibanaRule {
    const { meta } = rule;
    const root = this.documents.get(meta.id)?.root;
    const level = SEVERITY[meta.level ?? 'medium'];
    const { threat, unmapped } = kibanaThreatOf(meta.tags);
    if (unmapped.length > 0) this.result.notes.push(`${meta.location.file}:${meta.location.line}: ${meta.id}: no tactic known for ${unmapped.join(', ')}; left out of threat`);
    const required = new Map(query.fields.map((f) => [f.name, f.type]));
    const description = meta.description.trim() === '' ? meta.title : meta.description;
    const widened = query.widenings.length > 0;
    if (widened) this.result.widened.push({ file: meta.location.file, line: query.widenings[0]?.line ?? meta.location.line, id: meta.id, title: meta.title, widenings: query.widenings });
    return {
      rule_id: meta.id,
      name: meta.title,
      description: widened ? `${description.trimEnd()}\n\n${widenedSentence(query.widenings)}` : description,
      type: query.type,
      language: query.language,
      query: query.query,
      index: [...this.index],
      severity: level.severity,
      risk_score: level.risk,
      risk_score_mapping: [],
      severity_mapping: [],
      tags: [...meta.tags, 'Tapwire', ...(widened ? [WIDENED_TAG] : [])],
      references: [...meta.references],
      false_positives: root ? texts(root, 'falsepositives') : [],
      threat,
      author: meta.authors.length > 0 ? [...meta.authors] : ['Tapwire'],
      license: (root && texts(root, 'license')[0]) ?? this.license,
      version: versionOf(meta.modified ?? meta.date),
      from: schedule?.from ?? `now-${QUERY_LOOKBACK_S}s`,
      interval: schedule?.interval ?? `${QUERY_INTERVAL_S}s`,
      max_signals: MAX_SIGNALS,
      enabled: false,
      required_fields: [...required].map(([name, type]) => ({ name, type })),
      exceptions_list: [],
      actions: [],
    };
  }
}

/** Exports rule sources (compiled together, as the engine loads them) as Kibana detection rules. */
export function exportKibanaRules(sources: readonly RuleSource[], options: KibanaExportOptions = {}): KibanaExport {
  return new KibanaExporter(options).run(sources);
}

/** One rule per line, as the import API reads it. */
export function kibanaNdjson(rules: readonly KibanaRule[]): string {
  return rules.map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** What a widened query widened, each regex once (an object field repeats it on each of its fields). */
export function widenedBounds(widenings: readonly RegexWidening[]): string {
  const perRegex = new Map(widenings.map((w) => [`${w.line} ${w.pattern}`, w]));
  return [...perRegex.values()].map((w) => `regex of line ${w.line}: ${w.repeats.map((r) => `${r.bound} widened to unbounded ${r.widened}`).join(', ')}`).join('; ');
}

/** The sentence a widened rule's description ends with. */
function widenedSentence(widenings: readonly RegexWidening[]): string {
  return `Widened export (tapwire rules export --allow-widened), NOT identical to the Tapwire rule: this query alerts on every event the rule alerts on, and also on events where these bounded repeats run past their bounds: ${widenedBounds(widenings)}.`;
}

/** `FILE:LINE: id (title): what its query widened`. */
export function formatWidenedRule(widened: WidenedRule): string {
  return `${widened.file}:${widened.line}: ${widened.id} (${widened.title}): ${widenedBounds(widened.widenings)}`;
}

/** `FILE:LINE: id (title): reason`. */
export function formatSkippedRule(skipped: SkippedRule): string {
  return `${skipped.file}:${skipped.line}: ${skipped.id} (${skipped.title}): ${skipped.reason}`;
}
