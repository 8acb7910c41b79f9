/**
 * Runs compiled Sigma rules over events: each event only meets the rules of its MCP log source categories, and of
 * those only the ones whose requirement it satisfies (the fields they read are present, and the literals their
 * string values need are in them: ruleRequirement.ts, one literal scan per field for the whole pack:
 * literalPrefilter.ts); matches feed correlation state (in event time), and matches of alerting rules become
 * McpAlerts.
 */
import { alertContextOf, alertSourceOf, buildAlert, type AlertContext, type AlertRuleInfo } from '../alertBuilder.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { CompiledCorrelationRule, CompiledDetectionRule, CompiledRule, RuleHit } from './compiledRule.js';
import { trackerFor, type CorrelationTracker } from './correlationTracker.js';
import { EventContext } from './eventContext.js';
import { LiteralPrefilter, type EventPrecheck } from './literalPrefilter.js';
import { logsourceCategoriesOf } from './mcpLogsource.js';
import { EventWork, type SharedEventWork } from '../sharedEventWork.js';
import type { SigmaRuleMeta } from './ruleModel.js';
import { DEFAULT_SCAN_LIMITS, type ScanLimits } from './scanLimits.js';

export interface RuleEngineOptions {
  /** Bounds on how much of one event is read. */
  limits?: Partial<ScanLimits>;
}

export interface RuleEngineStats {
  detectionRules: number;
  correlationRules: number;
  /** Correlation groups currently held, over all correlation rules. */
  correlationGroups: number;
  /** Correlation groups evicted because a rule reached maxGroups. */
  correlationEvictions: number;
  /** Events whose scan stopped at a scan limit (scanLimits.ts) before every value a rule asked for was read. */
  truncatedScans: number;
}

interface Consumer {
  node: RuleNode;
  tracker: CorrelationTracker;
  ref: number;
}

interface RuleNode {
  rule: CompiledRule;
  info: AlertRuleInfo | undefined;
  consumers: Consumer[];
  /** False when the event cannot match the (detection) rule: it is not run. */
  precheck: EventPrecheck;
}

/** One event on its way through the rules, and what its matches share (the alert context, built on the first). */
interface EventMatch {
  event: McpEvent;
  time: number;
  ctx: EventContext;
  context: AlertContext | undefined;
  alerts: McpAlert[];
}

/** The alert-facing description of a Sigma rule. */
function alertRuleOf(meta: SigmaRuleMeta): AlertRuleInfo | undefined {
  if (meta.category === undefined || meta.level === undefined) return undefined;
  const info: AlertRuleInfo = {
    id: meta.id,
    name: meta.title,
    description: meta.description,
    version: meta.modified ?? meta.date ?? '1',
    category: meta.category,
    level: meta.level,
    author: meta.authors,
    ruleset: 'sigma',
    tags: meta.tags,
  };
  if (meta.references[0] !== undefined) info.reference = meta.references[0];
  return info;
}

/** Evaluates events against a set of compiled rules; holds the correlation state. */
export class RuleEngine {
  private readonly limits: ScanLimits;
  private readonly everyEvent: RuleNode[] = [];
  private readonly byCategory = new Map<string, RuleNode[]>();
  private readonly correlations: { node: RuleNode; tracker: CorrelationTracker }[] = [];
  private watermark = -Infinity;
  private truncatedScans = 0;

  /** Indexes the rules (and every rule their correlations reference) by log source category. */
  constructor(rules: readonly CompiledRule[], options: RuleEngineOptions = {}) {
    this.limits = { ...DEFAULT_SCAN_LIMITS, ...options.limits };
    const nodes = new Map<CompiledRule, RuleNode>();
    const nodeOf = (rule: CompiledRule): RuleNode => {
      let node = nodes.get(rule);
      if (node) return node;
      node = { rule, info: rule.alerts ? alertRuleOf(rule.meta) : undefined, consumers: [], precheck: () => true };
      nodes.set(rule, node);
      if (rule.kind === 'detection') this.index(node, rule);
      else this.track(node, rule, nodeOf);
      return node;
    };
    for (const rule of rules) nodeOf(rule);
    const detections = [...nodes.values()].filter((node): node is RuleNode & { rule: CompiledDetectionRule } => node.rule.kind === 'detection');
    const prefilter = new LiteralPrefilter();
    for (const node of detections) node.precheck = prefilter.precheck(node.rule.detection.requirement);
  }

  private index(node: RuleNode, rule: CompiledDetectionRule): void {
    if (rule.logsourceCategory === undefined) {
      this.everyEvent.push(node);
      return;
    }
    const list = this.byCategory.get(rule.logsourceCategory) ?? [];
    list.push(node);
    this.byCategory.set(rule.logsourceCategory, list);
  }

  private track(node: RuleNode, rule: CompiledCorrelationRule, nodeOf: (rule: CompiledRule) => RuleNode): void {
    const tracker = trackerFor(rule);
    this.correlations.push({ node, tracker });
    rule.rules.forEach((target, ref) => nodeOf(target).consumers.push({ node, tracker, ref }));
  }

  /** Runs the event through its log source's rules; returns the alerts it raises (including closed correlation windows). */
  evaluate(event: McpEvent, shared: SharedEventWork = new EventWork()): McpAlert[] {
    const time = Date.parse(event['@timestamp']);
    if (Number.isNaN(time)) throw new Error(`event ${event.event?.id ?? '(no event.id)'}: @timestamp '${String(event['@timestamp'])}' is not a date`);
    const alerts = this.advance(time);
    const ctx = new EventContext(event, this.limits, shared);
    const match: EventMatch = { event, time, ctx, context: undefined, alerts };
    this.run(this.everyEvent, match);
    for (const category of logsourceCategoriesOf(event)) {
      const nodes = this.byCategory.get(category);
      if (nodes !== undefined) this.run(nodes, match);
    }
    if (ctx.report.truncated) this.truncatedScans++;
    return alerts;
  }

  /** Runs the rules `nodes` that the event passes the precheck of; a method, not a closure made per event. */
  private run(nodes: readonly RuleNode[], match: EventMatch): void {
    const { event, time, ctx, alerts } = match;
    for (const node of nodes) {
      if (!node.precheck(ctx)) continue;
      const detection = (node.rule as CompiledDetectionRule).detection;
      if (!detection.test(ctx)) continue;
      const context = (match.context ??= alertContextOf(event));
      const hit: RuleHit = { time, sources: [alertSourceOf(event)], context, matched: () => detection.explain(ctx), values: (path) => ctx.strings(path, false) };
      // The rule matched what was read; the alert says that not all of the event was.
      if (ctx.report.truncated) hit.details = { scan_truncated: true };
      this.deliver(node, hit, alerts);
    }
  }

  /** Moves event time forward without an event (e.g. an idle worker); returns alerts of correlation windows that closed. */
  advanceTo(timestamp: string): McpAlert[] {
    const time = Date.parse(timestamp);
    if (Number.isNaN(time)) throw new Error(`advanceTo: '${timestamp}' is not a date`);
    return this.advance(time);
  }

  /** Judges every open correlation window (end of a replay) and clears correlation state. */
  flush(): McpAlert[] {
    const alerts: McpAlert[] = [];
    for (const { node, tracker } of this.correlations) for (const hit of tracker.flush()) this.deliver(node, hit, alerts);
    return alerts;
  }

  /** Sizes of the engine's state. */
  stats(): RuleEngineStats {
    let detectionRules = this.everyEvent.length;
    for (const list of this.byCategory.values()) detectionRules += list.length;
    return {
      detectionRules,
      correlationRules: this.correlations.length,
      correlationGroups: this.correlations.reduce((n, c) => n + c.tracker.groupCount, 0),
      correlationEvictions: this.correlations.reduce((n, c) => n + c.tracker.evictions, 0),
      truncatedScans: this.truncatedScans,
    };
  }

  private advance(time: number): McpAlert[] {
    const alerts: McpAlert[] = [];
    if (time <= this.watermark) return alerts;
    this.watermark = time;
    for (const { node, tracker } of this.correlations) for (const hit of tracker.advance(time)) this.deliver(node, hit, alerts);
    return alerts;
  }

  private deliver(node: RuleNode, hit: RuleHit, alerts: McpAlert[]): void {
    if (node.info) {
      const input = { rule: node.info, context: hit.context, sources: hit.sources, matched: hit.matched() };
      alerts.push(buildAlert(hit.details ? { ...input, details: hit.details } : input));
    }
    for (const consumer of node.consumers) for (const next of consumer.tracker.add(hit, consumer.ref)) this.deliver(consumer.node, next, alerts);
  }
}
