/**
 * Out-of-pattern use of a server's tools, against baselines per (server, tool) and call sequences per
 * session of that server. Partitioned by server: every call, result and tools/list of a server lands in
 * its partition whichever host or session sent it, so one partition holds a whole (server, tool)
 * baseline. Baselines learn for a configured event-time period after the server is first seen (a tool
 * first called later learns for the same period from its own first call), then each call and result is
 * judged and alerts say which baseline broke and by how much.
 */
import { alertContextOf, alertSourceOf, buildAlert, type AlertRuleInfo } from '../alertBuilder.js';
import { CappedNamespace, type CappedNamespaceSpec } from '../cappedNamespace.js';
import { partitionOf, type Detector, type DetectorContext } from '../detector.js';
import type { StateStore } from '../stateStore.js';
import { destructiveReason, hintsOf, type ToolHints } from '../toolTraits.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { argumentShape, type ArgumentShape } from './argumentShape.js';
import { spikeOf } from './callRate.js';
import { sequenceKey, sequencesEndingWith, sequenceText, withRecentCall, type RecentCall, type SessionCalls } from './callSequence.js';
import { addSample, emptyStats, rounded } from './runningStats.js';
import {
  coolingDown,
  newToolProfile,
  novelValues,
  rememberValues,
  rollProfile,
  withCall,
  type ShapeFeature,
  type ToolProfile,
} from './toolProfile.js';
import type { UsageConfig } from './usageConfig.js';
import { USAGE_RULES } from './usageRules.js';

const ID = 'tapwire.usage.tool';
const SERVER_NAMESPACE = `${ID}/server`;
const SERVER_KEY = 'meta';

/** When a server was first seen and its baselines last rolled up, and the hints its tools/list declared per tool. */
interface ServerUsage {
  firstSeen: number;
  rolledUp?: number;
  hints: Record<string, ToolHints>;
}

/** A sequence of tool names the server's baseline holds. */
interface KnownSequence {
  lastSeen: number;
}

/** The shape features checked on every call, with the rule each breaks and how it is named. */
const SHAPE_CHECKS: readonly { feature: ShapeFeature; rule: AlertRuleInfo; what: string }[] = [
  { feature: 'keys', rule: USAGE_RULES.unseenKey, what: 'argument key' },
  { feature: 'hosts', rule: USAGE_RULES.unseenHost, what: 'URL host' },
  { feature: 'pathRoots', rule: USAGE_RULES.unseenPathRoot, what: 'filesystem root' },
];

const SHAPE_BASELINE: Record<ShapeFeature, string> = { keys: 'argument_keys', hosts: 'url_hosts', pathRoots: 'path_roots' };

/** Shown in alert details: enough known values to compare, never the whole set. */
const MAX_LISTED_VALUES = 20;

function isCallRequest(event: McpEvent): boolean {
  return event.mcp.message?.kind === 'request' && event.mcp.direction !== 'server_to_client';
}

function isCallOutcome(event: McpEvent): boolean {
  const kind = event.mcp.message?.kind;
  return kind === 'response' || kind === 'error';
}

/** Which baselines a call broke, per (server, tool) and per session sequence. */
export class ToolUsageDetector implements Detector {
  readonly id = ID;
  readonly partitionBy = 'server' as const;
  readonly #config: UsageConfig;
  readonly #profiles: CappedNamespaceSpec<ToolProfile>;
  readonly #sessions: CappedNamespaceSpec<SessionCalls>;
  readonly #sequences: CappedNamespaceSpec<KnownSequence>;

  /** A detector with validated settings (see usageConfig). */
  constructor(config: UsageConfig) {
    this.#config = config;
    this.#profiles = { namespace: `${ID}/tool`, cap: config.maxToolsPerServer, lastUsed: (p) => p.lastSeen };
    this.#sessions = { namespace: `${ID}/session`, cap: config.maxSessionsPerServer, lastUsed: (s) => s.lastSeen };
    this.#sequences = { namespace: `${ID}/sequence`, cap: config.maxSequencesPerServer, lastUsed: (s) => s.lastSeen };
  }

  /** Learns from and judges tools/call requests and results; records tool hints from tools/list. */
  onEvent(event: McpEvent, context: DetectorContext): McpAlert[] {
    const action = event.mcp.method?.name ?? event.event.action;
    const partition = partitionOf(event, this.partitionBy);
    if (action === 'tools/list' && event.mcp.tools !== undefined) {
      this.#recordHints(context.state, partition, event, context.now);
      return [];
    }
    if (action !== 'tools/call' || !event.gen_ai?.tool?.name) return [];
    if (isCallRequest(event)) return this.#onCall(event, context, partition);
    if (isCallOutcome(event)) return this.#onOutcome(event, context, partition);
    return [];
  }

  /** Every rollUpIntervalMs per server: closes finished rate buckets and error windows into the baselines, forgets idle sessions. */
  onTick(context: DetectorContext): McpAlert[] {
    const { state, now } = context;
    const { rateBucketMs, errorWindowMs, sessionIdleMs, rollUpIntervalMs } = this.#config;
    for (const partition of state.partitions(SERVER_NAMESPACE)) {
      const server = state.get<ServerUsage>(partition, SERVER_NAMESPACE, SERVER_KEY)!;
      if (now < (server.rolledUp ?? server.firstSeen) + rollUpIntervalMs) continue;
      state.put(partition, SERVER_NAMESPACE, SERVER_KEY, { ...server, rolledUp: now });
      const profiles = new CappedNamespace(state, partition, this.#profiles);
      for (const [tool, profile] of profiles.entries()) {
        const rolled = rollProfile(profile, now, rateBucketMs, errorWindowMs);
        if (rolled !== profile) profiles.put(tool, rolled, true);
      }
      new CappedNamespace(state, partition, this.#sessions).expire(now - sessionIdleMs);
    }
    return [];
  }

  #server(state: StateStore, partition: string, now: number): ServerUsage {
    const known = state.get<ServerUsage>(partition, SERVER_NAMESPACE, SERVER_KEY);
    if (known) return known;
    const created: ServerUsage = { firstSeen: now, hints: {} };
    state.put(partition, SERVER_NAMESPACE, SERVER_KEY, created);
    return created;
  }

  #recordHints(state: StateStore, partition: string, event: McpEvent, now: number): void {
    const server = this.#server(state, partition, now);
    const hints: Record<string, ToolHints> = {};
    for (const tool of (event.mcp.tools ?? []).slice(0, this.#config.maxToolsPerServer)) hints[tool.name] = hintsOf(tool);
    state.put(partition, SERVER_NAMESPACE, SERVER_KEY, { ...server, hints });
  }

  #onCall(event: McpEvent, context: DetectorContext, partition: string): McpAlert[] {
    const { state, now } = context;
    const config = this.#config;
    const tool = event.gen_ai!.tool!.name;
    const server = this.#server(state, partition, now);
    const serverLearned = now >= server.firstSeen + config.learningPeriodMs;
    const profiles = new CappedNamespace(state, partition, this.#profiles);
    const stored = profiles.get(tool);
    const alerts: McpAlert[] = [];
    if (!stored && serverLearned) alerts.push(this.#firstUse(event, server, profiles.size()));
    const previous = rollProfile(stored ?? newToolProfile(now, config.rateBucketMs, config.errorWindowMs), now, config.rateBucketMs, config.errorWindowMs);
    let profile = withCall(previous, now, config.rateBucketMs);
    const judged = this.#judges(previous, now);
    if (judged) {
      const spike = spikeOf(profile.rate, { ...config, bucketMs: config.rateBucketMs });
      if (spike && !coolingDown(profile.lastAlert, 'rate', now, config.alertCooldownMs)) {
        const window = config.rateBucketMs >= 60_000 ? `${rounded(config.rateBucketMs / 60_000)} min` : `${config.rateBucketMs} ms`;
        alerts.push(
          this.#alert(USAGE_RULES.rateSpike, event, `Tool "${tool}" on server "${event.mcp.server.name}" was called ${spike.observed} times in ${window}, ${spike.ratio}× the baseline maximum of ${spike.baseline_max} (threshold ${spike.threshold}).`, {
            baseline: 'call_rate',
            ...spike,
          }, `rate:${profile.rate.bucket}`),
        );
        profile = { ...profile, rate: { ...profile.rate, alerted: true }, lastAlert: { ...profile.lastAlert, rate: now } };
      }
    }
    const shape = argumentShape(event.gen_ai?.tool?.call?.arguments ?? {}, config.pathRootDepth);
    for (const { feature, rule, what } of SHAPE_CHECKS) {
      const novel = novelValues(profile[feature], shape[feature]);
      if (novel.length === 0) continue;
      if (judged) alerts.push(this.#unseen(event, rule, what, feature, novel, profile));
      profile = { ...profile, [feature]: rememberValues(profile[feature], novel, config.maxValuesPerSet) };
    }
    profile = this.#judgeLengths(event, profile, shape, judged, now, alerts);
    profiles.put(tool, profile, stored !== undefined);
    alerts.push(...this.#judgeSequence(event, context, partition, server, serverLearned));
    return alerts;
  }

  /** Whether a tool's own baseline is ready to judge: a full learning period since its first call, and enough calls. */
  #judges(profile: ToolProfile, now: number): boolean {
    return now >= profile.firstSeen + this.#config.learningPeriodMs && profile.calls >= this.#config.minShapeCalls;
  }

  #firstUse(event: McpEvent, server: ServerUsage, knownTools: number): McpAlert {
    const tool = event.gen_ai!.tool!.name;
    const learnedSince = new Date(server.firstSeen).toISOString();
    return this.#alert(USAGE_RULES.firstUse, event, `Tool "${tool}" on server "${event.mcp.server.name}" was called for the first time; none of the ${knownTools} tools in the baseline learned since ${learnedSince} is "${tool}".`, {
      baseline: 'tools',
      server_first_seen: learnedSince,
      learning_period_ms: this.#config.learningPeriodMs,
      baseline_tools: knownTools,
    });
  }

  #unseen(event: McpEvent, rule: AlertRuleInfo, what: string, feature: ShapeFeature, novel: string[], profile: ToolProfile): McpAlert {
    const tool = event.gen_ai!.tool!.name;
    const known = profile[feature];
    const values = novel.map((v) => `"${v}"`).join(', ');
    const message = `Tool "${tool}" on server "${event.mcp.server.name}" was called with ${novel.length === 1 ? `${what} ${values}` : `${what}s ${values}`}, unseen among the ${known.length} in its baseline of ${profile.calls - 1} calls.`;
    return this.#alert(rule, event, message, {
      baseline: SHAPE_BASELINE[feature],
      unseen: novel,
      baseline_values: known.length,
      baseline_sample: known.slice(-MAX_LISTED_VALUES),
      baseline_calls: profile.calls - 1,
    }, `${feature}:${novel.join('\n')}`);
  }

  #judgeLengths(event: McpEvent, profile: ToolProfile, shape: ArgumentShape, judged: boolean, now: number, alerts: McpAlert[]): ToolProfile {
    const config = this.#config;
    let worst: { key: string; length: number; max: number; ratio: number } | undefined;
    const lengths = { ...profile.lengths };
    for (const [key, length] of Object.entries(shape.lengths)) {
      const stats = lengths[key];
      const threshold = stats ? Math.max(config.minLongArgumentChars, config.longArgumentFactor * stats.max) : Infinity;
      const long = judged && stats !== undefined && stats.n >= config.minSamples && length >= threshold;
      if (long && (!worst || length / Math.max(stats.max, 1) > worst.ratio)) worst = { key, length, max: stats.max, ratio: length / Math.max(stats.max, 1) };
      if (long) continue;
      if (stats || Object.keys(lengths).length < config.maxLengthKeys) lengths[key] = addSample(stats ?? emptyStats(), length);
    }
    let next: ToolProfile = { ...profile, lengths };
    if (worst && !coolingDown(profile.lastAlert, 'length', now, config.alertCooldownMs)) {
      const tool = event.gen_ai!.tool!.name;
      alerts.push(
        this.#alert(USAGE_RULES.longArgument, event, `Argument "${worst.key}" of tool "${tool}" on server "${event.mcp.server.name}" is ${worst.length} characters, ${rounded(worst.ratio)}× the longest (${worst.max}) in its baseline.`, {
          baseline: 'argument_length',
          argument: worst.key,
          observed: worst.length,
          baseline_max: worst.max,
          baseline_mean: rounded(profile.lengths[worst.key]!.mean),
          baseline_samples: profile.lengths[worst.key]!.n,
          ratio: rounded(worst.ratio),
        }, `length:${worst.key}`),
        );
      next = { ...next, lastAlert: { ...next.lastAlert, length: now } };
    }
    return next;
  }

  #onOutcome(event: McpEvent, context: DetectorContext, partition: string): McpAlert[] {
    const { state, now } = context;
    const config = this.#config;
    const tool = event.gen_ai!.tool!.name;
    const profiles = new CappedNamespace(state, partition, this.#profiles);
    const stored = profiles.get(tool);
    // Results follow their call, which created the profile; none means it was evicted meanwhile.
    if (!stored) return [];
    let profile = rollProfile(stored, now, config.rateBucketMs, config.errorWindowMs);
    const failed = event.event.outcome === 'failure' || event.mcp.message?.kind === 'error';
    profile = { ...profile, lastSeen: Math.max(profile.lastSeen, now), errors: { ...profile.errors, calls: profile.errors.calls + 1, errors: profile.errors.errors + (failed ? 1 : 0) } };
    const judged = this.#judges(profile, now);
    const alerts: McpAlert[] = [];
    const size = event.mcp.message?.size ?? 0;
    const { results } = profile;
    const sizeThreshold = Math.max(config.minOversizedBytes, config.oversizeFactor * results.max);
    if (judged && !failed && results.n >= config.minSamples && size >= sizeThreshold && !coolingDown(profile.lastAlert, 'size', now, config.alertCooldownMs)) {
      const ratio = rounded(size / Math.max(results.max, 1));
      alerts.push(
        this.#alert(USAGE_RULES.oversizedResult, event, `Tool "${tool}" on server "${event.mcp.server.name}" returned ${size} bytes, ${ratio}× the largest result (${results.max} bytes) in its baseline of ${results.n} results.`, {
          baseline: 'result_size',
          observed_bytes: size,
          threshold_bytes: sizeThreshold,
          baseline_max_bytes: results.max,
          baseline_mean_bytes: rounded(results.mean),
          baseline_results: results.n,
          ratio,
        }),
      );
      profile = { ...profile, lastAlert: { ...profile.lastAlert, size: now } };
    } else if (!failed) {
      profile = { ...profile, results: addSample(results, size) };
    }
    const errorAlert = judged ? this.#judgeErrors(event, profile, now) : undefined;
    if (errorAlert) {
      alerts.push(errorAlert);
      profile = { ...profile, errors: { ...profile.errors, alerted: true }, lastAlert: { ...profile.lastAlert, errors: now } };
    }
    profiles.put(tool, profile, true);
    return alerts;
  }

  #judgeErrors(event: McpEvent, profile: ToolProfile, now: number): McpAlert | undefined {
    const config = this.#config;
    const { errors } = profile;
    if (errors.alerted || errors.calls < config.minErrorWindowCalls || coolingDown(profile.lastAlert, 'errors', now, config.alertCooldownMs)) return undefined;
    const baselineRate = errors.baselineCalls === 0 ? 0 : errors.baselineErrors / errors.baselineCalls;
    const rate = errors.errors / errors.calls;
    const threshold = Math.max(config.errorRateFloor, config.errorRateFactor * baselineRate);
    if (rate < threshold) return undefined;
    const tool = event.gen_ai!.tool!.name;
    const minutes = rounded(config.errorWindowMs / 60_000);
    return this.#alert(USAGE_RULES.errorRate, event, `Tool "${tool}" on server "${event.mcp.server.name}" failed ${errors.errors} of ${errors.calls} calls in the current ${minutes} min window (${rounded(rate * 100, 1)}%), against ${rounded(baselineRate * 100, 1)}% in its baseline.`, {
      baseline: 'error_rate',
      window_errors: errors.errors,
      window_calls: errors.calls,
      window_rate: rounded(rate, 3),
      threshold_rate: rounded(threshold, 3),
      baseline_rate: rounded(baselineRate, 3),
      baseline_calls: errors.baselineCalls,
    }, `errors:${errors.window}`);
  }

  #judgeSequence(event: McpEvent, context: DetectorContext, partition: string, server: ServerUsage, serverLearned: boolean): McpAlert[] {
    const { state, now } = context;
    const config = this.#config;
    const sessions = new CappedNamespace(state, partition, this.#sessions);
    const sequences = new CappedNamespace(state, partition, this.#sequences);
    const sessionId = event.mcp.session.id;
    const session = sessions.get(sessionId);
    const call: RecentCall = { tool: event.gen_ai!.tool!.name, source: alertSourceOf(event) };
    const unseen: RecentCall[][] = [];
    for (const sequence of sequencesEndingWith(session?.recent ?? [], call, config.sequenceLength)) {
      const key = sequenceKey(sequence);
      const known = sequences.get(key);
      if (!known) unseen.push(sequence);
      sequences.put(key, { lastSeen: now }, known !== undefined);
    }
    sessions.put(sessionId, withRecentCall(session, call, now, config.sequenceLength), session !== undefined);
    // Only the call being made can still be stopped: judge sequences that end in a destructive tool.
    const reason = destructiveReason(call.tool, server.hints[call.tool]);
    const longest = unseen.at(-1);
    if (!serverLearned || reason === undefined || !longest) return [];
    const reasons = Object.fromEntries(
      [...new Set(longest.map((c) => c.tool))].flatMap((tool) => {
        const why = destructiveReason(tool, server.hints[tool]);
        return why === undefined ? [] : [[tool, why === 'annotation' ? 'destructiveHint' : 'name']];
      }),
    );
    const text = sequenceText(longest);
    return [
      buildAlert({
        rule: USAGE_RULES.destructiveSequence,
        context: alertContextOf(event),
        sources: longest.map((c) => c.source),
        message: `Session ${event.mcp.session.id} on server "${event.mcp.server.name}" called ${text}, a sequence with a destructive tool that the server's baseline never saw.`,
        details: { baseline: 'call_sequences', sequence: longest.map((c) => c.tool), unseen_sequences: unseen.map((s) => s.map((c) => c.tool)), destructive_tools: reasons, baseline_sequences: sequences.size() - unseen.length },
        matched: [{ field: 'gen_ai.tool.name', value: call.tool }],
      }),
    ];
  }

  #alert(rule: AlertRuleInfo, event: McpEvent, message: string, details: Record<string, unknown>, discriminator?: string): McpAlert {
    return buildAlert({
      rule,
      context: alertContextOf(event),
      sources: [alertSourceOf(event)],
      message,
      details,
      matched: [{ field: 'gen_ai.tool.name', value: event.gen_ai!.tool!.name }],
      ...(discriminator === undefined ? {} : { discriminator }),
    });
  }
}
