/**
 * State of one Sigma correlation rule: matches of the referenced rules, grouped by the group-by values, in
 * windows of `timespan` measured in event time (@timestamp), so a replay behaves exactly like live traffic.
 *
 * - Conditions with only a lower bound (gt/gte) use a sliding window and fire as soon as the count is reached;
 *   the group then starts afresh, so the next alert needs a new set of events.
 * - Conditions with an upper bound (lt/lte/eq) need the whole window: it opens at the group's first match and
 *   is judged when event time passes its end (advance) or at flush.
 * - temporal_ordered tracks, per referenced rule and sequence length, the in-order partial match with the
 *   latest start (the one with the most time left).
 * Groups are bounded (least recently used evicted) and so are matches per group.
 */
import type { AlertContext, AlertSource } from '../alertBuilder.js';
import type { CompiledCorrelationRule, RuleHit } from './compiledRule.js';
import { FieldPath } from './fieldPath.js';
import type { CountBounds, SigmaCorrelationRule, SigmaRuleMeta } from './ruleModel.js';

interface Entry {
  time: number;
  ref: number;
  value: string | undefined;
  sources: readonly AlertSource[];
  context: AlertContext;
}

interface GroupIdentity {
  key: string;
  /** group-by name → value. */
  values: Record<string, string>;
}

interface GroupState {
  identity: GroupIdentity;
  /** Event time after which the group is judged (upper-bound windows) or can no longer fire. */
  deadline: number;
}

/** The field a correlation reads for `name` in events of a referenced rule: the alias mapping, else `name`. */
export function correlationFieldName(definition: SigmaCorrelationRule, name: string, target: SigmaRuleMeta): string {
  const alias = definition.aliases.get(name);
  if (!alias) return name;
  return alias.get(target.name ?? '') ?? alias.get(target.id) ?? name;
}

/** Whether a count meets every bound. */
export function satisfiesBounds(bounds: CountBounds, n: number): boolean {
  return (
    (bounds.gt === undefined || n > bounds.gt) &&
    (bounds.gte === undefined || n >= bounds.gte) &&
    (bounds.lt === undefined || n < bounds.lt) &&
    (bounds.lte === undefined || n <= bounds.lte) &&
    (bounds.eq === undefined || n === bounds.eq)
  );
}

/** Whether the condition caps the count, so a window must be complete before it is judged. */
export function hasUpperBound(bounds: CountBounds): boolean {
  return bounds.lt !== undefined || bounds.lte !== undefined || bounds.eq !== undefined;
}

/** Group bookkeeping shared by every correlation type. */
export abstract class CorrelationTracker<State extends GroupState = GroupState> {
  protected readonly groups = new Map<string, State>();
  protected readonly definition: SigmaCorrelationRule;
  protected readonly span: number;
  /** Groups dropped because maxGroups was reached. */
  evictions = 0;
  private nextDeadline = Infinity;
  private readonly groupPaths: FieldPath[][];
  private readonly valuePaths: FieldPath[] | undefined;

  /** Prepares the field paths the rule reads from each referenced rule's matches. */
  constructor(readonly rule: CompiledCorrelationRule) {
    this.definition = rule.definition;
    this.span = rule.definition.timespanMs;
    this.groupPaths = rule.rules.map((target) => this.definition.groupBy.map((name) => new FieldPath(correlationFieldName(this.definition, name, target.meta))));
    const valueField = this.definition.valueField;
    this.valuePaths = valueField === undefined ? undefined : rule.rules.map((target) => new FieldPath(correlationFieldName(this.definition, valueField, target.meta)));
  }

  /** Groups currently held. */
  get groupCount(): number {
    return this.groups.size;
  }

  /** Feeds a match of the referenced rule at position `ref`; returns the correlation matches it completes. */
  add(hit: RuleHit, ref: number): RuleHit[] {
    const identity = this.identify(hit, ref);
    if (!identity) return [];
    let value: string | undefined;
    if (this.valuePaths) {
      value = hit.values(this.valuePaths[ref] as FieldPath)[0];
      if (value === undefined) return [];
    }
    const entry: Entry = { time: hit.time, ref, value, sources: hit.sources, context: hit.context };
    const existing = this.groups.get(identity.key);
    if (existing) this.groups.delete(identity.key);
    const firings: RuleHit[] = [];
    const kept = this.accept(existing, identity, entry, firings);
    if (kept) {
      this.groups.set(identity.key, kept);
      this.nextDeadline = Math.min(this.nextDeadline, kept.deadline);
      if (this.groups.size > this.rule.limits.maxGroups) {
        const oldest = this.groups.keys().next().value as string;
        this.groups.delete(oldest);
        this.evictions++;
      }
    }
    return firings;
  }

  /** Moves event time to `watermark`: judges windows that ended and drops groups that can no longer fire. */
  advance(watermark: number): RuleHit[] {
    if (watermark <= this.nextDeadline) return [];
    const firings: RuleHit[] = [];
    let next = Infinity;
    for (const [key, state] of this.groups) {
      if (state.deadline < watermark) {
        this.groups.delete(key);
        this.expire(state, firings);
      } else {
        next = Math.min(next, state.deadline);
      }
    }
    this.nextDeadline = next;
    return firings;
  }

  /** Judges every open window (end of a replay) and clears the state. */
  flush(): RuleHit[] {
    const firings: RuleHit[] = [];
    for (const state of this.groups.values()) this.expire(state, firings);
    this.groups.clear();
    this.nextDeadline = Infinity;
    return firings;
  }

  /** Adds the entry to its group (undefined when new); returns the state to keep, or undefined when the group is done. */
  protected abstract accept(state: State | undefined, identity: GroupIdentity, entry: Entry, firings: RuleHit[]): State | undefined;

  /** Called when a group's deadline passes. */
  protected abstract expire(state: State, firings: RuleHit[]): void;

  private identify(hit: RuleHit, ref: number): GroupIdentity | undefined {
    const values: Record<string, string> = {};
    const parts: string[] = [];
    const paths = this.groupPaths[ref] as FieldPath[];
    for (let i = 0; i < paths.length; i++) {
      const value = hit.values(paths[i] as FieldPath)[0];
      if (value === undefined) return undefined;
      values[this.definition.groupBy[i] as string] = value;
      parts.push(value);
    }
    return { key: JSON.stringify(parts), values };
  }

  /** The correlation match made of `entries`. */
  protected firing(identity: GroupIdentity, entries: readonly Entry[], count: number): RuleHit {
    const first = entries[0] as Entry;
    const time = entries.reduce((latest, e) => Math.max(latest, e.time), first.time);
    const sources = entries.flatMap((e) => e.sources).slice(-this.rule.limits.maxAlertSources);
    const groupValues = identity.values;
    return {
      time,
      sources,
      context: first.context,
      matched: () => Object.entries(groupValues).map(([field, value]) => ({ field, value })),
      values: (path) => (Object.hasOwn(groupValues, path.name) ? [groupValues[path.name] as string] : []),
      details: { correlation: { type: this.definition.type, count, timespan: this.definition.timespanText, group: { ...groupValues } } },
    };
  }
}

interface WindowState extends GroupState {
  start: number;
  entries: Entry[];
  count: number;
  values: Map<string, number>;
  /** Distinct values stopped being tracked at maxEventsPerGroup; the count is then "more than that". */
  valuesOverflow: boolean;
  refs: number[];
}

/** event_count, value_count and temporal: a count over a window of matches. */
export class WindowCorrelationTracker extends CorrelationTracker<WindowState> {
  private readonly wholeWindow = hasUpperBound(this.rule.definition.bounds);

  /** Sliding window (fire on reaching the count) or whole window (judge at its end), depending on the bounds. */
  protected accept(state: WindowState | undefined, identity: GroupIdentity, entry: Entry, firings: RuleHit[]): WindowState | undefined {
    const cap = this.rule.limits.maxEventsPerGroup;
    if (this.wholeWindow) {
      if (state && entry.time > state.start + this.span) {
        this.expire(state, firings);
        state = undefined;
      }
      state ??= this.open(identity, entry.time);
      state.entries.push(entry);
      this.count(state, entry, 1);
      // The window's counters stay exact; only the kept source entries are bounded.
      if (state.entries.length > cap) state.entries.shift();
      return state;
    }
    state ??= this.open(identity, entry.time);
    let at = state.entries.length;
    while (at > 0 && (state.entries[at - 1] as Entry).time > entry.time) at--;
    state.entries.splice(at, 0, entry);
    this.count(state, entry, 1);
    const newest = (state.entries[state.entries.length - 1] as Entry).time;
    while (state.entries.length > 0 && ((state.entries[0] as Entry).time < newest - this.span || state.entries.length > cap)) {
      this.count(state, state.entries.shift() as Entry, -1);
    }
    state.deadline = newest + this.span;
    const n = this.metric(state);
    if (satisfiesBounds(this.definition.bounds, n)) {
      firings.push(this.firing(identity, state.entries, n));
      return undefined;
    }
    return state;
  }

  /** A whole window is judged when it ends; a sliding one already fired when it could. */
  protected expire(state: WindowState, firings: RuleHit[]): void {
    if (!this.wholeWindow) return;
    const n = this.metric(state);
    if (satisfiesBounds(this.definition.bounds, n)) firings.push(this.firing(state.identity, state.entries, n));
  }

  private open(identity: GroupIdentity, start: number): WindowState {
    return { identity, deadline: start + this.span, start, entries: [], count: 0, values: new Map(), valuesOverflow: false, refs: this.rule.rules.map(() => 0) };
  }

  private count(state: WindowState, entry: Entry, delta: 1 | -1): void {
    state.count += delta;
    state.refs[entry.ref] = (state.refs[entry.ref] as number) + delta;
    if (entry.value === undefined) return;
    const seen = state.values.get(entry.value) ?? 0;
    if (seen === 0 && delta === 1 && state.values.size >= this.rule.limits.maxEventsPerGroup) {
      state.valuesOverflow = true;
      return;
    }
    if (seen + delta <= 0) state.values.delete(entry.value);
    else state.values.set(entry.value, seen + delta);
  }

  private metric(state: WindowState): number {
    switch (this.definition.type) {
      case 'value_count':
        return state.values.size + (state.valuesOverflow ? 1 : 0);
      case 'temporal':
        return state.refs.filter((n) => n > 0).length;
      default:
        return state.count;
    }
  }
}

interface Partial {
  start: number;
  last: number;
  entries: Entry[];
}

interface OrderedState extends GroupState {
  /** best[ref][length - 1]: the in-order partial match of that length ending with rule `ref`, latest start. */
  best: (Partial | undefined)[][];
}

/** temporal_ordered: the referenced rules match in the order listed, within the timespan. */
export class OrderedCorrelationTracker extends CorrelationTracker<OrderedState> {
  private readonly needed = Math.max(this.rule.definition.bounds.gte ?? 0, (this.rule.definition.bounds.gt ?? -1) + 1, 1);

  /** Extends the in-order partial matches with this entry; fires when one reaches the needed length. */
  protected accept(state: OrderedState | undefined, identity: GroupIdentity, entry: Entry, firings: RuleHit[]): OrderedState | undefined {
    state ??= { identity, deadline: entry.time + this.span, best: this.rule.rules.map(() => []) };
    const oldest = entry.time - this.span;
    for (const row of state.best) for (let i = 0; i < row.length; i++) if (row[i] && (row[i] as Partial).start < oldest) row[i] = undefined;
    const row = state.best[entry.ref] as (Partial | undefined)[];
    const extended: (Partial | undefined)[] = [{ start: entry.time, last: entry.time, entries: [entry] }];
    for (let length = 2; length <= this.needed; length++) {
      let previous: Partial | undefined;
      for (let k = 0; k < entry.ref; k++) {
        const candidate = state.best[k]?.[length - 2];
        if (candidate && candidate.last <= entry.time && (!previous || candidate.start > previous.start)) previous = candidate;
      }
      extended.push(previous && { start: previous.start, last: entry.time, entries: [...previous.entries, entry] });
    }
    extended.forEach((partial, i) => {
      const current = row[i];
      if (partial && (!current || current.start <= partial.start)) row[i] = partial;
    });
    const complete = row[this.needed - 1];
    if (complete) {
      firings.push(this.firing(identity, complete.entries, this.needed));
      return undefined;
    }
    const latestStart = Math.max(...state.best.flat().map((p) => p?.start ?? -Infinity));
    state.deadline = latestStart + this.span;
    return state;
  }

  /** A partial ordered match only fires when its last rule arrives, so an expired group has nothing to judge. */
  protected expire(): void {
    return;
  }
}

/** The tracker for a correlation rule's type. */
export function trackerFor(rule: CompiledCorrelationRule): CorrelationTracker {
  return rule.definition.type === 'temporal_ordered' ? new OrderedCorrelationTracker(rule) : new WindowCorrelationTracker(rule);
}
