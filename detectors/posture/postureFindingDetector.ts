/**
 * Alerts on the HTTP collector's posture findings: plaintext remote upstreams, remote servers that take
 * unauthenticated traffic, token audience mismatches (token passthrough), credentials in query strings,
 * and MCP routing headers that disagree with the body. The collector reports a finding once per session;
 * a misconfigured server shows it in every session, so this detector alerts once per server and finding,
 * and again only after a configured time, counting what it held back.
 */
import { alertContextOf, alertSourceOf, buildAlert } from '../alertBuilder.js';
import { CappedNamespace, type CappedNamespaceSpec } from '../cappedNamespace.js';
import { partitionOf, type Detector, type DetectorContext } from '../detector.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { PostureConfig } from './postureConfig.js';
import { POSTURE_RULES } from './postureRules.js';

const ID = 'tapwire.posture';

/** When a finding last alerted, and how many sessions showed it since. */
interface ReportedFinding {
  alertedAt: number;
  lastSeen: number;
  heldBack: number;
}

const SUBJECT: Record<keyof typeof POSTURE_RULES, string> = {
  plaintext_upstream: 'is reached over plaintext HTTP',
  no_authorization: 'accepted MCP traffic without authorization',
  token_audience_mismatch: 'was sent a token whose audience is another resource',
  token_in_query: 'was sent a credential in a URL query string',
  mcp_header_mismatch: 'received MCP routing headers that disagree with the body',
};

/** Posture findings of the HTTP collector, as alerts. */
export class PostureFindingDetector implements Detector {
  readonly id = ID;
  readonly partitionBy = 'server' as const;
  readonly #config: PostureConfig;
  readonly #reported: CappedNamespaceSpec<ReportedFinding>;

  /** A detector with validated settings (see postureConfig). */
  constructor(config: PostureConfig) {
    this.#config = config;
    this.#reported = { namespace: `${ID}/reported`, cap: config.maxFindingsPerServer, lastUsed: (r) => r.lastSeen };
  }

  /** Alerts on a posture.finding event unless the same finding alerted for the server recently. */
  onEvent(event: McpEvent, context: DetectorContext): McpAlert[] {
    const posture = event.mcp.posture;
    if (event.event.action !== 'posture.finding' || posture === undefined) return [];
    const { now } = context;
    const reported = new CappedNamespace(context.state, partitionOf(event, this.partitionBy), this.#reported);
    const key = `${posture.finding}\n${posture.detail ?? ''}`;
    const previous = reported.get(key);
    if (previous && now - previous.alertedAt < this.#config.repeatAfterMs) {
      reported.put(key, { ...previous, lastSeen: Math.max(previous.lastSeen, now), heldBack: previous.heldBack + 1 }, true);
      return [];
    }
    reported.put(key, { alertedAt: now, lastSeen: now, heldBack: 0 }, previous !== undefined);
    const server = event.mcp.server;
    const url = (event.url as { full?: unknown } | undefined)?.full;
    const repeated = previous ? ` Seen in ${previous.heldBack + 1} more sessions since the last alert on ${new Date(previous.alertedAt).toISOString()}.` : '';
    return [
      buildAlert({
        rule: POSTURE_RULES[posture.finding],
        context: alertContextOf(event),
        sources: [alertSourceOf(event)],
        message: `MCP server "${server.name}" (${server.id}) ${SUBJECT[posture.finding]}${posture.detail ? `: ${posture.detail}` : ''}.${repeated}`,
        details: {
          finding: posture.finding,
          ...(posture.detail === undefined ? {} : { detail: posture.detail }),
          ...(typeof url === 'string' ? { url } : {}),
          ...(event.mcp.auth?.token_hash === undefined ? {} : { token_hash: event.mcp.auth.token_hash }),
          ...(previous ? { sessions_since_last_alert: previous.heldBack + 1, last_alert: new Date(previous.alertedAt).toISOString() } : {}),
        },
        matched: [{ field: 'mcp.posture.finding', value: posture.finding }],
      }),
    ];
  }
}
