/* Generated from pipeline/schemas/alert.schema.json by scripts/generateSchemaTypes.mjs (npm run schema:types). Do not edit. */

/**
 * One detection: an ECS document with event.kind alert, naming the rule and the events that caused it.
 */
export interface McpAlert {
  '@timestamp': string;
  ecs: {
    version: string;
  };
  /**
   * One readable sentence.
   */
  message: string;
  event: {
    kind: 'alert';
    /**
     * @minItems 1
     */
    category: ('intrusion_detection' | 'api' | 'session' | 'configuration' | 'threat')[];
    /**
     * @minItems 1
     */
    type: ('indicator' | 'info' | 'change' | 'denied')[];
    action?: string;
    dataset: 'mcp.alerts';
    id: string;
    severity: 21 | 47 | 73 | 99;
    risk_score: number;
    created?: string;
    ingested?: string;
  };
  data_stream: {
    type: 'logs';
    dataset: 'mcp.alerts';
    namespace: string;
  };
  rule: {
    id: string;
    name: string;
    description: string;
    version: string;
    category:
      | 'tool_poisoning'
      | 'tool_drift'
      | 'tool_shadowing'
      | 'hidden_content'
      | 'prompt_injection'
      | 'cross_server_flow'
      | 'sensitive_data'
      | 'ssrf'
      | 'path_traversal'
      | 'command_injection'
      | 'unknown_server'
      | 'server_impersonation'
      | 'anomalous_tool_use'
      | 'protocol';
    reference?: string;
    ruleset?: string;
    author?: string[];
  };
  threat?: {
    framework?: string;
    technique?: {
      id: string;
      name?: string;
      reference?: string;
    }[];
  };
  alert: {
    /**
     * Deterministic: replays and restarts never duplicate an alert.
     */
    fingerprint: string;
    /**
     * @minItems 1
     */
    source_event_ids: string[];
    /**
     * The fields and (redacted, bounded) values that matched.
     */
    matched?: {
      field: string;
      value?: string;
    }[];
    /**
     * Detector-specific evidence: diffs, baselines, flows.
     */
    details?: {};
  };
  mcp?: {
    session?: {
      id?: string;
    };
    host_session?: {
      id?: string;
    };
    server?: {
      id?: string;
      name?: string;
      version?: string;
    };
    method?: {
      name?: string;
    };
    transport?: string;
  };
  gen_ai?: {
    tool?: {
      name?: string;
    };
  };
  host?: {
    hostname?: string;
  };
  observer: {
    type?: string;
    product: 'tapwire';
    vendor: 'Tapwire';
    version: string;
  };
  tags?: string[];
}
