/** Schema-valid alerts for the Elasticsearch store's tests. */
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';

export interface AlertSpec {
  /** ISO-8601 or epoch milliseconds (default 2026-01-01). */
  time?: string | number;
  severity?: 21 | 47 | 73 | 99;
  rule?: string;
  session?: string;
  serverId?: string;
  serverName?: string;
}

/** An alert whose fingerprint is `letter` (a hex digit) repeated to 64 characters. */
export function makeAlert(letter: string, spec: AlertSpec = {}): McpAlert {
  const severity = spec.severity ?? 73;
  return {
    '@timestamp': new Date(spec.time ?? Date.UTC(2026, 0, 1)).toISOString(),
    ecs: { version: '9.0.0' },
    message: `Rule ${spec.rule ?? 'hidden-instructions'} matched.`,
    event: { kind: 'alert', category: ['threat'], type: ['indicator'], dataset: 'mcp.alerts', id: `alert-${letter}`, severity, risk_score: severity },
    data_stream: { type: 'logs', dataset: 'mcp.alerts', namespace: 'default' },
    rule: { id: spec.rule ?? 'hidden-instructions', name: 'Hidden instructions', description: 'A tool description addresses the model.', version: '1', category: 'tool_poisoning' },
    alert: { fingerprint: letter.repeat(64), source_event_ids: ['s:2'] },
    ...(spec.serverId === undefined && spec.session === undefined
      ? {}
      : {
          mcp: {
            ...(spec.session === undefined ? {} : { session: { id: spec.session } }),
            ...(spec.serverId === undefined ? {} : { server: { id: spec.serverId, name: spec.serverName ?? spec.serverId } }),
          },
        }),
    observer: { product: 'tapwire', vendor: 'Tapwire', version: '0.1.0' },
  };
}
