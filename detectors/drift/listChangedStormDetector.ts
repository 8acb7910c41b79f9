/**
 * notifications/{tools,prompts,resources}/list_changed storms: a server that tells one session its lists changed
 * many times within a short window keeps swapping what the model is offered (or wears down whoever reviews the
 * changes). Counted per session in a sliding event-time window; one alert per window.
 */
import { alertContextOf, buildAlert } from '../alertBuilder.js';
import { partitionOf, type Detector, type DetectorContext } from '../detector.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { DRIFT_RULES } from './driftRules.js';

export interface ListChangedStormOptions {
  /** Sliding window (event time, ms; default 60 s). */
  windowMs?: number;
  /** Notifications within the window that make a storm (default 10). */
  threshold?: number;
}

/** The notifications of one session still inside the window. */
interface SessionWindow {
  times: number[];
  ids: string[];
  /** No new alert for this session before this time (one alert per window). */
  quietUntil: number;
}

const NS = 'drift.storm';

/** Counts list_changed notifications per session (partitioned by server identity). */
export class ListChangedStormDetector implements Detector {
  readonly id = DRIFT_RULES.listChangedStorm.id;
  readonly partitionBy = 'server' as const;
  private readonly windowMs: number;
  private readonly threshold: number;

  /** Options are fixed for the detector's life. */
  constructor(options: ListChangedStormOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.threshold = options.threshold ?? 10;
  }

  /** Counts a list_changed notification; alerts when its session's window reaches the threshold. */
  onEvent(event: McpEvent, { state, now }: DetectorContext): McpAlert[] {
    const method = event.mcp.method?.name;
    if (event.mcp.direction !== 'server_to_client' || method === undefined || !method.endsWith('/list_changed')) return [];
    const partition = partitionOf(event, 'server');
    const session = event.mcp.session.id;
    const previous = state.get<SessionWindow>(partition, NS, session);
    const keep = (previous?.times ?? []).map((t, i) => [t, previous?.ids[i] ?? ''] as const).filter(([t]) => t > now - this.windowMs);
    const window: SessionWindow = {
      times: [...keep.map(([t]) => t), now].slice(-this.threshold),
      ids: [...keep.map(([, id]) => id), event.event.id].slice(-this.threshold),
      quietUntil: previous?.quietUntil ?? 0,
    };
    const count = keep.length + 1;
    const alerts: McpAlert[] = [];
    if (count >= this.threshold && now >= window.quietUntil) {
      window.quietUntil = now + this.windowMs;
      const first = window.times[0] ?? now;
      alerts.push(
        buildAlert({
          rule: DRIFT_RULES.listChangedStorm,
          context: alertContextOf(event),
          sources: window.ids.map((id, i) => ({ id, timestamp: new Date(window.times[i] ?? now).toISOString() })),
          message: `MCP server "${event.mcp.server.name}" sent ${count} list_changed notifications to session ${session} within ${Math.round((now - first) / 1000)} s (threshold ${this.threshold} in ${Math.round(this.windowMs / 1000)} s)`,
          details: { storm: { count, window_ms: this.windowMs, threshold: this.threshold, last_method: method } },
        }),
      );
    }
    state.put(partition, NS, session, window);
    return alerts;
  }

  /** Forgets sessions whose window has passed. */
  onTick({ state, now }: DetectorContext): McpAlert[] {
    for (const partition of state.partitions(NS)) {
      for (const [session, window] of state.entries<SessionWindow>(partition, NS)) {
        const last = window.times.at(-1) ?? 0;
        if (last <= now - this.windowMs && window.quietUntil <= now) state.delete(partition, NS, session);
      }
    }
    return [];
  }
}
