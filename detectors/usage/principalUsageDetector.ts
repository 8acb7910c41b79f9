/**
 * Out-of-pattern use of a server by one principal (the user, else the host): their call rate and the
 * hours of the day they use it. The baseline is per (principal, server) and must outlive any one host
 * session (a host restart starts a new one), so it cannot live in a host-session partition; it is
 * partitioned by server, where every call to the server lands, and keyed by principal inside it.
 */
import { alertContextOf, alertSourceOf, buildAlert, type AlertRuleInfo } from '../alertBuilder.js';
import { CappedNamespace, type CappedNamespaceSpec } from '../cappedNamespace.js';
import { partitionOf, type Detector, type DetectorContext } from '../detector.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { countCall, rollRate, spikeOf, startRate, type CallRate } from './callRate.js';
import { rounded } from './runningStats.js';
import { coolingDown } from './toolProfile.js';
import type { UsageConfig } from './usageConfig.js';
import { USAGE_RULES } from './usageRules.js';

const ID = 'tapwire.usage.principal';
const ROLL_UP_NAMESPACE = `${ID}/rollup`;
const ROLL_UP_KEY = 'at';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One principal's use of one server. */
interface PrincipalProfile {
  firstSeen: number;
  lastSeen: number;
  calls: number;
  /** Calls per hour of the day (principal's clock). */
  hours: number[];
  rate: CallRate;
  lastAlert: Record<string, number>;
}

/** Who made a call: the user if the collector knew them, else the host. */
export function principalOf(event: McpEvent): string {
  return event.user?.name ?? event.user?.id ?? `host:${event.host.hostname}`;
}

/** Which baselines a principal's call to a server broke. */
export class PrincipalUsageDetector implements Detector {
  readonly id = ID;
  readonly partitionBy = 'server' as const;
  readonly #config: UsageConfig;
  readonly #principals: CappedNamespaceSpec<PrincipalProfile>;

  /** A detector with validated settings (see usageConfig). */
  constructor(config: UsageConfig) {
    this.#config = config;
    this.#principals = { namespace: `${ID}/principal`, cap: config.maxPrincipalsPerServer, lastUsed: (p) => p.lastSeen };
  }

  /** Judges, then learns from, each tools/call request. */
  onEvent(event: McpEvent, context: DetectorContext): McpAlert[] {
    const action = event.mcp.method?.name ?? event.event.action;
    if (action !== 'tools/call' || event.mcp.message?.kind !== 'request' || event.mcp.direction === 'server_to_client') return [];
    const { state, now } = context;
    const config = this.#config;
    const principals = new CappedNamespace(state, partitionOf(event, this.partitionBy), this.#principals);
    const principal = principalOf(event);
    const stored = principals.get(principal);
    const previous = stored ?? { firstSeen: now, lastSeen: now, calls: 0, hours: new Array<number>(24).fill(0), rate: startRate(now, config.rateBucketMs), lastAlert: {} };
    const judged = now >= previous.firstSeen + config.learningPeriodMs && previous.calls >= config.minSamples;
    const hour = Math.floor((((now + config.utcOffsetMinutes * 60_000) % DAY_MS) + DAY_MS) % DAY_MS / HOUR_MS);
    const hours = [...previous.hours];
    hours[hour] = (hours[hour] ?? 0) + 1;
    let profile: PrincipalProfile = { ...previous, lastSeen: Math.max(previous.lastSeen, now), calls: previous.calls + 1, hours, rate: countCall(rollRate(previous.rate, now, config.rateBucketMs), now, config.rateBucketMs) };
    const alerts: McpAlert[] = [];
    if (judged && this.#unusualHour(previous.hours, hour)) alerts.push(this.#offHours(event, principal, hour, previous));
    const spike = judged ? spikeOf(profile.rate, { ...config, bucketMs: config.rateBucketMs }) : undefined;
    if (spike && !coolingDown(profile.lastAlert, 'rate', now, config.alertCooldownMs)) {
      alerts.push(
        this.#alert(USAGE_RULES.principalRateSpike, event, `${principal} called server "${event.mcp.server.name}" ${spike.observed} times in one ${rounded(config.rateBucketMs / 60_000)} min bucket, ${spike.ratio}× their baseline maximum of ${spike.baseline_max} (threshold ${spike.threshold}).`, {
          baseline: 'principal_call_rate',
          principal,
          ...spike,
        }, `rate:${profile.rate.bucket}`),
      );
      profile = { ...profile, rate: { ...profile.rate, alerted: true }, lastAlert: { ...profile.lastAlert, rate: now } };
    }
    principals.put(principal, profile, stored !== undefined);
    return alerts;
  }

  /** Every rollUpIntervalMs per server: closes finished rate buckets into each principal's baseline. */
  onTick(context: DetectorContext): McpAlert[] {
    const { state, now } = context;
    for (const partition of state.partitions(this.#principals.namespace)) {
      const rolledUp = state.get<number>(partition, ROLL_UP_NAMESPACE, ROLL_UP_KEY);
      if (rolledUp !== undefined && now < rolledUp + this.#config.rollUpIntervalMs) continue;
      state.put(partition, ROLL_UP_NAMESPACE, ROLL_UP_KEY, now);
      const principals = new CappedNamespace(state, partition, this.#principals);
      for (const [principal, profile] of principals.entries()) {
        const rate = rollRate(profile.rate, now, this.#config.rateBucketMs);
        if (rate !== profile.rate) principals.put(principal, { ...profile, rate }, true);
      }
    }
    return [];
  }

  /** No call in this hour, nor within the tolerance around it, while the baseline learned. */
  #unusualHour(hours: readonly number[], hour: number): boolean {
    const tolerance = this.#config.offHoursTolerance;
    for (let offset = -tolerance; offset <= tolerance; offset++) {
      if ((hours[(hour + offset + 24) % 24] ?? 0) > 0) return false;
    }
    return true;
  }

  #offHours(event: McpEvent, principal: string, hour: number, baseline: PrincipalProfile): McpAlert {
    const usual = baseline.hours.flatMap((count, h) => (count > 0 ? [h] : []));
    const clock = (h: number): string => `${String(h).padStart(2, '0')}:00`;
    return this.#alert(USAGE_RULES.offHours, event, `${principal} called server "${event.mcp.server.name}" at ${clock(hour)}, an hour (±${this.#config.offHoursTolerance}) with none of their ${baseline.calls} baseline calls; usual hours: ${usual.map(clock).join(', ')}.`, {
      baseline: 'time_of_day',
      principal,
      hour,
      utc_offset_minutes: this.#config.utcOffsetMinutes,
      baseline_calls: baseline.calls,
      baseline_hours: Object.fromEntries(usual.map((h) => [clock(h), baseline.hours[h]])),
    }, `hour:${hour}`);
  }

  #alert(rule: AlertRuleInfo, event: McpEvent, message: string, details: Record<string, unknown>, discriminator: string): McpAlert {
    return buildAlert({ rule, context: alertContextOf(event), sources: [alertSourceOf(event)], message, details, discriminator, matched: [{ field: 'gen_ai.tool.name', value: event.gen_ai?.tool?.name ?? '' }] });
  }
}
