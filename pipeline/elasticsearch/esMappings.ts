/**
 * Field mappings of Tapwire's data streams, typed with the client's own mapping types so the compiler checks them.
 *
 * The types follow the event and alert schemas, as the Sigma-to-Kibana exporter assumes
 * (detectors/sigma/elasticFieldTypes.ts): declared strings are keyword, date-time strings date, integers long;
 * objects the schema leaves open (tool arguments and results, params, schemas, capabilities) are flattened, as
 * ECS 9.1 maps gen_ai.tool.call.arguments; url.*, http.*, source.* and user_agent.* get ECS types. Fields the schema
 * does not know are kept in _source but not indexed (dynamic: false), so a new collector field never sends a
 * document to the dead-letter queue.
 */
import type { estypes } from '@elastic/elasticsearch';

type Properties = Record<string, estypes.MappingProperty>;

/**
 * Lucene refuses a term over 32,766 bytes (and with it the whole document); 8,191 characters fit even at four
 * UTF-8 bytes each. Longer values stay in _source and in the wildcard text fields below.
 */
const KEYWORD: estypes.MappingKeywordProperty = { type: 'keyword', ignore_above: 8191 };
const LONG: estypes.MappingLongNumberProperty = { type: 'long' };
const DATE: estypes.MappingDateProperty = { type: 'date' };
const BOOLEAN: estypes.MappingBooleanProperty = { type: 'boolean' };
/** Collectors cap payload nesting at 64 levels (collectors/payloadBounds.ts), above flattened's default of 20. */
const FLATTENED: estypes.MappingFlattenedProperty = { type: 'flattened', depth_limit: 64, ignore_above: 8191 };
/** A keyword that analysts can also search word by word (`<field>.text`), as ECS maps message-like fields. */
const KEYWORD_WITH_TEXT: estypes.MappingKeywordProperty = { ...KEYWORD, fields: { text: { type: 'match_only_text' } } };
/**
 * Long text that rules match with wildcards: the `wildcard` type answers `*needle*` patterns efficiently at any
 * length, case-insensitively when asked (EQL's `:`), and `<field>.text` serves word search, as ECS maps
 * process.command_line.
 */
const WILDCARD_WITH_TEXT: estypes.MappingWildcardProperty = { type: 'wildcard', fields: { text: { type: 'match_only_text' } } };

const object = (properties: Properties): estypes.MappingObjectProperty => ({ type: 'object', properties });
const keywords = (...names: string[]): Properties => Object.fromEntries(names.map((name) => [name, KEYWORD]));

/**
 * index.max_regex_length of Tapwire's indices (Elasticsearch's default is 1000): the exported Kibana rules spell
 * Sigma's case-insensitive regexes with explicit classes, which makes them several times longer than the rule's.
 */
export const INDEX_MAX_REGEX_LENGTH = 10_000;

/**
 * Keys of mcp.params whose text the shipped rules search (contains, regex), indexed again as fields of their own
 * under mcp.param_text: Elasticsearch runs only term, prefix and exists queries on a key of a flattened object, and
 * a regex on the flattened root would also match every other key's values.
 */
export const INDEXED_PARAM_KEYS = ['data', 'messages', 'url', 'message'] as const;

/** The indexed field holding the text of `mcp.params.<key>`, for an indexed key; undefined otherwise. */
export function indexedParamTextField(name: string): `mcp.param_text.${(typeof INDEXED_PARAM_KEYS)[number]}` | undefined {
  const key = INDEXED_PARAM_KEYS.find((k) => name === `mcp.params.${k}`);
  return key === undefined ? undefined : `mcp.param_text.${key}`;
}

/**
 * Derived fields the messages data stream indexes, computed per event by the caller's `textFields` option
 * (service/ wires detectors/sigma/derivedFields.ts, and the engine's string values of each indexed params key),
 * so Kibana rules can target them as Tapwire's rules do. They live under mcp.text, mcp.schema and mcp.param_text,
 * which events themselves never carry.
 */
export const INDEXED_TEXT_FIELDS = [
  'mcp.text.descriptions',
  'mcp.text.result',
  'mcp.text.hidden_tags',
  'mcp.schema.property_names',
  ...INDEXED_PARAM_KEYS.map((key) => `mcp.param_text.${key}` as const),
] as const;
export type IndexedTextField = (typeof INDEXED_TEXT_FIELDS)[number];

/** Fields both data streams carry: the ECS base, the data stream, the observer, the host and the MCP context. */
export const COMMON_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: false,
  date_detection: false,
  properties: {
    '@timestamp': DATE,
    message: KEYWORD_WITH_TEXT,
    tags: KEYWORD,
    ecs: object(keywords('version')),
    data_stream: object({
      type: { type: 'constant_keyword' },
      dataset: { type: 'constant_keyword' },
      namespace: { type: 'constant_keyword' },
    }),
    event: object({ ...keywords('kind', 'category', 'type', 'action', 'dataset', 'id'), created: DATE, ingested: DATE }),
    host: object({ ...keywords('hostname', 'name'), os: object(keywords('platform')) }),
    observer: object(keywords('type', 'product', 'vendor', 'version', 'hostname')),
    gen_ai: object({ tool: object({ name: KEYWORD }) }),
    mcp: object({
      session: object(keywords('id')),
      host_session: object(keywords('id')),
      method: object(keywords('name')),
      server: object(keywords('id', 'name', 'version')),
      transport: KEYWORD,
    }),
  },
};

const TOOL_PROPERTIES: Properties = {
  ...keywords('name', 'hash', 'title', 'description'),
  input_schema: FLATTENED,
  output_schema: FLATTENED,
  annotations: FLATTENED,
};

/** ECS fields of the HTTP collector (url.*, http.*, source.*, user_agent.*); sub-fields ECS leaves out map as keyword. */
const HTTP_EXCHANGE: Properties = {
  url: {
    type: 'object',
    dynamic: true,
    properties: { ...keywords('original', 'full', 'scheme', 'domain', 'path', 'query', 'fragment', 'username'), port: LONG },
  },
  http: {
    type: 'object',
    dynamic: true,
    properties: {
      version: KEYWORD,
      request: object({ ...keywords('id', 'method', 'mime_type', 'referrer'), bytes: LONG, body: object({ bytes: LONG }) }),
      response: object({ status_code: LONG, mime_type: KEYWORD, bytes: LONG, body: object({ bytes: LONG }) }),
    },
  },
  source: { type: 'object', dynamic: true, properties: { ip: { type: 'ip' }, port: LONG, bytes: LONG, ...keywords('address', 'domain') } },
  user_agent: { type: 'object', dynamic: true, properties: keywords('original', 'name', 'version') },
};

/** Unknown sub-fields of the ECS objects above are strings the exporter treats as keyword; map them so. */
const HTTP_EXCHANGE_DYNAMIC: estypes.MappingTypeMapping['dynamic_templates'] = [
  {
    http_exchange_strings: {
      path_match: ['url.*', 'http.*', 'source.*', 'user_agent.*'],
      match_mapping_type: 'string',
      mapping: KEYWORD,
    },
  },
];

/** logs-mcp.messages-*: one document per MCP event (pipeline/schemas/event.schema.json). */
export const MESSAGES_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic_templates: HTTP_EXCHANGE_DYNAMIC,
  properties: {
    event: object({ sequence: LONG, duration: LONG, outcome: KEYWORD }),
    jsonrpc: object({ version: KEYWORD, request: object(keywords('id')) }),
    gen_ai: object({
      operation: object(keywords('name')),
      tool: object({ call: object({ id: KEYWORD, arguments: FLATTENED, result: FLATTENED }) }),
    }),
    error: object({ code: KEYWORD, type: KEYWORD, message: KEYWORD_WITH_TEXT }),
    process: object({
      ...keywords('name', 'executable', 'args', 'command_line'),
      pid: LONG,
      exit_code: LONG,
      parent: object({ pid: LONG, start: DATE }),
    }),
    user: object(keywords('name', 'id')),
    network: object(keywords('transport', 'protocol')),
    ...HTTP_EXCHANGE,
    mcp: object({
      session: object(keywords('http_id')),
      server: object(keywords('reported_name', 'title')),
      protocol: object(keywords('version')),
      direction: KEYWORD,
      message: object({
        kind: KEYWORD,
        size: LONG,
        truncated: BOOLEAN,
        excerpt: KEYWORD,
        parse_error: KEYWORD,
        batch: object({ index: LONG, size: LONG }),
        correlated: BOOLEAN,
      }),
      client: object(keywords('name', 'version', 'title')),
      params: FLATTENED,
      result: FLATTENED,
      result_type: KEYWORD,
      instructions: KEYWORD,
      capabilities: FLATTENED,
      tools: object(TOOL_PROPERTIES),
      resource: object(keywords('uri')),
      resources: object(keywords('uri', 'uri_template', 'name', 'title', 'description', 'mime_type')),
      prompt: object(keywords('name')),
      prompts: object({ ...keywords('name', 'title', 'description'), arguments: FLATTENED }),
      cancelled_request_id: KEYWORD,
      progress_token: KEYWORD,
      tap: object({
        frames: LONG,
        events: LONG,
        dropped: LONG,
        bytes_unobserved: LONG,
        bytes: object({ client_to_server: LONG, server_to_client: LONG }),
        reason: KEYWORD,
      }),
      auth: object({
        ...keywords('scheme', 'token_hash', 'token_format'),
        jwt: object({ ...keywords('iss', 'aud', 'sub', 'scope'), exp: LONG }),
        challenge: object({ status: LONG, ...keywords('scheme', 'realm', 'resource_metadata', 'scope', 'error', 'error_description') }),
        metadata: object(keywords('kind', 'resource', 'issuer', 'authorization_servers', 'scopes_supported')),
      }),
      posture: object(keywords('finding', 'detail')),
      text: object({ descriptions: WILDCARD_WITH_TEXT, result: WILDCARD_WITH_TEXT, hidden_tags: WILDCARD_WITH_TEXT }),
      schema: object({ property_names: KEYWORD }),
      param_text: object(Object.fromEntries(INDEXED_PARAM_KEYS.map((key) => [key, WILDCARD_WITH_TEXT]))),
    }),
  },
};

/** logs-mcp.alerts-*: one document per Tapwire alert (pipeline/schemas/alert.schema.json). */
export const ALERTS_MAPPINGS: estypes.MappingTypeMapping = {
  properties: {
    event: object({ severity: LONG, risk_score: { type: 'float' } }),
    rule: object(keywords('id', 'name', 'description', 'version', 'category', 'reference', 'ruleset', 'author')),
    threat: object({ framework: KEYWORD, technique: object(keywords('id', 'name', 'reference')) }),
    alert: object({
      fingerprint: KEYWORD,
      source_event_ids: KEYWORD,
      matched: object({ field: KEYWORD, value: KEYWORD }),
      details: FLATTENED,
    }),
  },
};
