/* Generated from pipeline/schemas/event.schema.json by scripts/generateSchemaTypes.mjs (npm run schema:types). Do not edit. */

/**
 * One normalized MCP protocol event: a JSON-RPC message seen by a collector, or a collector lifecycle record. ECS 9 field names; MCP-only fields under mcp.*.
 */
export interface McpEvent {
  '@timestamp': string;
  /**
   * One readable line for lifecycle and status events.
   */
  message?: string;
  ecs: {
    version: string;
  };
  event: {
    kind: 'event';
    /**
     * @minItems 1
     */
    category: ('api' | 'session' | 'process' | 'network' | 'authentication' | 'configuration')[];
    /**
     * @minItems 1
     */
    type: (
      | 'access'
      | 'change'
      | 'creation'
      | 'deletion'
      | 'info'
      | 'start'
      | 'end'
      | 'error'
      | 'protocol'
      | 'connection'
      | 'denied'
    )[];
    /**
     * The MCP method (tools/call), or a collector record: session.start, session.end, tap.status; from the HTTP collector also auth.challenge, auth.discovery, posture.finding, http.error, http.rejected.
     */
    action: string;
    dataset: 'mcp.messages';
    /**
     * Deterministic per session: <session id>:<sequence>.
     */
    id: string;
    /**
     * Per-session order, assigned by the collector.
     */
    sequence: number;
    /**
     * Nanoseconds from the correlated request to this response.
     */
    duration?: number;
    outcome?: 'success' | 'failure' | 'unknown';
    created?: string;
    ingested?: string;
  };
  data_stream: {
    type: 'logs';
    dataset: 'mcp.messages';
    namespace: string;
  };
  mcp: Mcp;
  jsonrpc?: {
    version?: string;
    request?: {
      /**
       * The JSON-RPC id as a string; numbers keep their decimal form.
       */
      id: string;
    };
  };
  gen_ai?: {
    operation?: {
      name: string;
    };
    tool?: {
      name: string;
      call?: {
        id?: string;
        /**
         * Redacted and size-bounded tools/call arguments.
         */
        arguments?: {
          [k: string]: unknown;
        };
        /**
         * Redacted and size-bounded tools/call result (content, structuredContent, isError).
         */
        result?: {
          [k: string]: unknown;
        };
      };
    };
  };
  error?: {
    code?: string;
    message?: string;
    type?: string;
  };
  process?: {
    pid?: number;
    name?: string;
    executable?: string;
    args?: string[];
    command_line?: string;
    exit_code?: number;
    parent?: {
      pid?: number;
      start?: string;
    };
  };
  host: {
    hostname: string;
    name?: string;
    os?: {
      platform?: string;
    };
  };
  user?: {
    name?: string;
    id?: string;
  };
  observer: {
    type: 'stdio_tap' | 'http_tap' | 'replay' | 'pipeline';
    product: 'tapwire';
    vendor: 'Tapwire';
    version: string;
    hostname?: string;
  };
  network: {
    transport: 'pipe' | 'tcp';
    protocol?: string;
  };
  /**
   * ECS url.* of the HTTP request (HTTP collector).
   */
  url?: {};
  /**
   * ECS http.* of the HTTP exchange (HTTP collector).
   */
  http?: {};
  /**
   * ECS source.* (the HTTP client address).
   */
  source?: {};
  /**
   * ECS user_agent.*.
   */
  user_agent?: {};
  tags?: string[];
}
export interface Mcp {
  method?: {
    name: string;
  };
  session: {
    /**
     * Tap-assigned session id.
     */
    id: string;
    /**
     * The HTTP session: the Mcp-Session-Id header (Streamable HTTP), or the legacy HTTP+SSE endpoint's sessionId.
     */
    http_id?: string;
  };
  host_session?: {
    id: string;
  };
  protocol?: {
    version?: string;
  };
  direction?: 'client_to_server' | 'server_to_client';
  transport: 'stdio' | 'streamable_http' | 'sse';
  message?: {
    kind: 'request' | 'response' | 'notification' | 'error' | 'unparsed';
    /**
     * Bytes of the frame (for a batch element: of the whole batch).
     */
    size: number;
    truncated?: boolean;
    /**
     * Bounded, redacted excerpt of an unparsed frame.
     */
    excerpt?: string;
    parse_error?: string;
    batch?: {
      index: number;
      size: number;
    };
    /**
     * Responses: whether the request was seen.
     */
    correlated?: boolean;
  };
  server: {
    /**
     * Stable identity: stdio command and args, or the upstream URL.
     */
    id: string;
    /**
     * Configured name (host config key / route name), else the name the server reported.
     */
    name: string;
    version?: string;
    /**
     * serverInfo.name as the server reported it.
     */
    reported_name?: string;
    title?: string;
  };
  client?: {
    name?: string;
    version?: string;
    title?: string;
  };
  /**
   * Redacted, size-bounded request/notification params (tools/call arguments live in gen_ai.tool.call.arguments).
   */
  params?: {
    [k: string]: unknown;
  };
  /**
   * Redacted, size-bounded result (tools/list tools live in mcp.tools, tools/call results in gen_ai.tool.call.result).
   */
  result?: {
    [k: string]: unknown;
  };
  /**
   * 2026-07-28 resultType (complete | input_required).
   */
  result_type?: string;
  /**
   * Server instructions from initialize or server/discover.
   */
  instructions?: string;
  capabilities?: {};
  tools?: Tool[];
  resource?: {
    uri: string;
  };
  resources?: Resource[];
  prompt?: {
    name: string;
  };
  prompts?: Prompt[];
  cancelled_request_id?: string;
  progress_token?: string;
  tap?: TapStatus;
  auth?: Auth;
  posture?: Posture;
}
export interface Tool {
  name: string;
  /**
   * SHA-256 of the canonical JSON of name, title, description, inputSchema, outputSchema, annotations.
   */
  hash: string;
  title?: string;
  description?: string;
  input_schema?: unknown;
  output_schema?: unknown;
  annotations?: {};
}
export interface Resource {
  uri?: string;
  uri_template?: string;
  name?: string;
  title?: string;
  description?: string;
  mime_type?: string;
}
export interface Prompt {
  name: string;
  title?: string;
  description?: string;
  arguments?: unknown;
}
/**
 * Collector counters, on tap.status and session.end events.
 */
export interface TapStatus {
  frames?: number;
  events?: number;
  /**
   * Events that could not be delivered to the bus.
   */
  dropped?: number;
  /**
   * Forwarded bytes that observation skipped under memory pressure.
   */
  bytes_unobserved?: number;
  bytes?: {
    client_to_server?: number;
    server_to_client?: number;
  };
  reason?: string;
}
/**
 * HTTP authorization seen by the HTTP collector. Never the credential itself: a keyed hash of it, and a JWT's claims decoded without verification.
 */
export interface Auth {
  /**
   * The Authorization scheme, lower case (bearer, basic, …).
   */
  scheme?: string;
  /**
   * HMAC of the credential under the home's redaction key: the hex of its [REDACTED:<type>:<hex>] placeholders elsewhere.
   */
  token_hash?: string;
  token_format?: 'jwt' | 'opaque';
  /**
   * Claims of a JWT bearer token, decoded but NOT verified.
   */
  jwt?: {
    iss?: string;
    aud?: string[];
    sub?: string;
    /**
     * scope, or scp joined by spaces.
     */
    scope?: string;
    /**
     * Expiry in seconds since the epoch.
     */
    exp?: number;
  };
  /**
   * A 401/403 WWW-Authenticate challenge.
   */
  challenge?: {
    status?: number;
    scheme?: string;
    realm?: string;
    resource_metadata?: string;
    scope?: string;
    error?: string;
    error_description?: string;
  };
  /**
   * An OAuth discovery document served through the proxy (RFC 9728 protected resource, RFC 8414 authorization server).
   */
  metadata?: {
    kind: 'protected_resource' | 'authorization_server' | 'openid_configuration';
    resource?: string;
    issuer?: string;
    authorization_servers?: string[];
    scopes_supported?: string[];
  };
}
/**
 * A security posture finding of the HTTP collector (event.action posture.finding).
 */
export interface Posture {
  finding:
    'plaintext_upstream' | 'no_authorization' | 'token_audience_mismatch' | 'token_in_query' | 'mcp_header_mismatch';
  detail?: string;
}
