/**
 * Storms of unparsed frames: many frames in one session, within a short window, that are not valid
 * JSON-RPC. One bad frame is noise (a stray log line on stdout); a storm is a broken or hostile peer,
 * smuggling, or an attempt to blind the tap. A storm alerts once, citing the frames that made it, and
 * ends when the window holds fewer than the threshold again.
 */
import { alertContextOf, alertSourceOf, buildAlert, type AlertSource } from '../alertBuilder.js';
import { CappedNamespace, type CappedNamespaceSpec } from '../cappedNamespace.js';
import { partitionOf, type Detector, type DetectorContext } from '../detector.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { PostureConfig } from './postureConfig.js';
import { UNPARSED_STORM_RULE } from './postureRules.js';

/** One unparsed frame, as the window keeps it. */
interface UnparsedFrame {
  at: number;
  source: AlertSource;
  direction: string;
  reason: string;
  bytes: number;
}

/** A session's recent unparsed frames and whether it is in a reported storm. */
interface SessionWindow {
  lastSeen: number;
  frames: UnparsedFrame[];
  inStorm: boolean;
}

const MAX_REASON_CHARS = 160;
const MAX_LISTED_REASONS = 5;

/** Unparsed-frame storms per session. */
export class UnparsedStormDetector implements Detector {
  readonly id = 'tapwire.protocol';
  readonly partitionBy = 'server' as const;
  readonly #config: PostureConfig;
  readonly #sessions: CappedNamespaceSpec<SessionWindow>;

  /** A detector with validated settings (see postureConfig). */
  constructor(config: PostureConfig) {
    this.#config = config;
    this.#sessions = { namespace: `${this.id}/session`, cap: config.maxSessionsPerServer, lastUsed: (s) => s.lastSeen };
  }

  /** Counts an unparsed frame in its session's window; alerts when the window reaches the threshold. */
  onEvent(event: McpEvent, context: DetectorContext): McpAlert[] {
    if (event.mcp.message?.kind !== 'unparsed') return [];
    const { now } = context;
    const { unparsedThreshold, unparsedWindowMs } = this.#config;
    const sessions = new CappedNamespace(context.state, partitionOf(event, this.partitionBy), this.#sessions);
    const sessionId = event.mcp.session.id;
    const previous = sessions.get(sessionId);
    const frame: UnparsedFrame = {
      at: now,
      source: alertSourceOf(event),
      direction: event.mcp.direction ?? 'unknown',
      reason: (event.mcp.message.parse_error ?? '').slice(0, MAX_REASON_CHARS),
      bytes: event.mcp.message.size,
    };
    const frames = [...(previous?.frames ?? []), frame].filter((f) => f.at > now - unparsedWindowMs).slice(-unparsedThreshold);
    const storm = frames.length >= unparsedThreshold;
    const alert = storm && !previous?.inStorm;
    sessions.put(sessionId, { lastSeen: now, frames, inStorm: storm }, previous !== undefined);
    if (!alert) return [];
    const reasons = [...new Set(frames.map((f) => f.reason).filter((r) => r !== ''))].slice(0, MAX_LISTED_REASONS);
    const directions: Record<string, number> = {};
    for (const f of frames) directions[f.direction] = (directions[f.direction] ?? 0) + 1;
    const seconds = Math.round(unparsedWindowMs / 100) / 10;
    const span = Math.round((now - frames[0]!.at) / 100) / 10;
    return [
      buildAlert({
        rule: UNPARSED_STORM_RULE,
        context: alertContextOf(event),
        sources: frames.map((f) => f.source),
        message: `Session ${sessionId} with MCP server "${event.mcp.server.name}" sent ${frames.length} unparsed frames in ${span} s (threshold ${unparsedThreshold} in ${seconds} s)${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}.`,
        details: {
          baseline: 'unparsed_frames',
          frames: frames.length,
          span_ms: now - frames[0]!.at,
          threshold: unparsedThreshold,
          window_ms: unparsedWindowMs,
          directions,
          bytes: frames.reduce((sum, f) => sum + f.bytes, 0),
          reasons,
        },
        matched: [{ field: 'mcp.message.kind', value: 'unparsed' }],
      }),
    ];
  }

  /** Forgets sessions with no unparsed frame for the configured idle time. */
  onTick(context: DetectorContext): McpAlert[] {
    for (const partition of context.state.partitions(this.#sessions.namespace)) {
      new CappedNamespace(context.state, partition, this.#sessions).expire(context.now - this.#config.sessionIdleMs);
    }
    return [];
  }
}
