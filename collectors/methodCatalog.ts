/**
 * What each MCP method means to a SOC: its ECS category/type, and which parts of its params and result
 * become first-class event fields (tool inventory, tool calls, resource URIs, negotiated versions).
 * Methods not listed still normalize generically (params and result kept, redacted and bounded).
 */
import type { McpEvent, Prompt as EventPrompt, Resource as EventResource, Tool as EventTool } from '../pipeline/types/mcpEvent.js';
import { boundEach, boundPayload, boundString, type Bounded, type PayloadLimits } from './payloadBounds.js';
import { setJsonProperty } from './jsonProperty.js';
import type { Redactor } from './redaction.js';
import { toolHash } from '../pipeline/toolHash.js';

/** ECS event.category values the schema allows. */
export type EventCategory = McpEvent['event']['category'][number];
/** ECS event.type values the schema allows. */
export type EventType = McpEvent['event']['type'][number];
type JsonObject = Record<string, unknown>;
type ToolCall = NonNullable<NonNullable<NonNullable<McpEvent['gen_ai']>['tool']>['call']>;

/** name/version/title of an MCP Implementation (clientInfo, serverInfo). */
export interface PeerInfo {
  name?: string;
  version?: string;
  title?: string;
}

/** Session facts a message revealed; the normalizer remembers them and stamps later events. */
export interface SessionFacts {
  protocolVersion?: string;
  clientInfo?: PeerInfo;
  serverInfo?: PeerInfo;
}

/** 2026-07-28 stateless form: per-request and per-result metadata keys. */
export const META_KEYS = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
} as const;

/** Redacts, then bounds, everything a method extractor copies into an event. */
export class PayloadShaper {
  /** The redactor and limits every copied value goes through. */
  constructor(
    readonly redactor: Redactor,
    readonly limits: PayloadLimits,
  ) {}

  /** A redacted, bounded copy of a JSON value. */
  value(v: unknown): Bounded {
    return boundPayload(this.redactor.value(v), this.limits);
  }

  /** A redacted, bounded copy of free text (instructions, descriptions, messages). */
  text(s: string): Bounded<string> {
    return boundString(this.redactor.text(s), this.limits.maxStringBytes);
  }

  /** The same shaper with other limits (a share of a list's budget). */
  withLimits(limits: PayloadLimits): PayloadShaper {
    return new PayloadShaper(this.redactor, limits);
  }
}

/** Collects whether anything copied into one event was cut. */
export class TruncationTracker {
  truncated = false;

  /** Unwraps a bounded value, remembering if it was cut. */
  keep<T>(b: Bounded<T>): T {
    this.truncated ||= b.truncated;
    return b.value;
  }
}

/** What an extractor works with: the event being built, the shaper, and the facts it may record. */
export interface Extraction {
  event: McpEvent;
  shaper: PayloadShaper;
  cut: TruncationTracker;
  facts: SessionFacts;
}

interface MethodEntry {
  category: EventCategory[];
  type: EventType[];
  /** Fills event fields from a request's or notification's params. */
  params?: (params: JsonObject, x: Extraction) => void;
  /** Fills event fields from a result. */
  result?: (result: JsonObject, x: Extraction) => void;
  /** Params keys that live elsewhere in the event, so mcp.params leaves them out. */
  paramsElsewhere?: readonly string[];
  /** Result keys that live elsewhere in the event (or `'*'`: the whole result does). */
  resultElsewhere?: readonly string[] | '*';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): JsonObject | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined);
const idString = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

/**
 * An identifier (tool or prompt name, id, progress token), bounded and redacted like any text: a credential used as
 * an id is still a credential. Detectors compare these exactly, which placeholders allow (one secret, one placeholder).
 */
function identifier(v: unknown, shaper: PayloadShaper, cut: TruncationTracker): string | undefined {
  const s = idString(v);
  return s === undefined ? undefined : cut.keep(shaper.text(s));
}

/** A redacted, bounded copy that is still an object (an ECS object field), else nothing. */
function shapedObject(v: unknown, shaper: PayloadShaper, cut: TruncationTracker): JsonObject | undefined {
  const o = obj(v);
  return o && obj(cut.keep(shaper.value(o)));
}

/** name/version/title of an Implementation object, each bounded; undefined when it has none of them. */
export function peerInfo(v: unknown, limits: PayloadLimits): PeerInfo | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const info: PeerInfo = {};
  for (const key of ['name', 'version', 'title'] as const) {
    const s = str(o[key]);
    if (s !== undefined) info[key] = boundString(s, limits.maxStringBytes).value;
  }
  return Object.keys(info).length > 0 ? info : undefined;
}

function capabilities(v: unknown, x: Extraction): void {
  const shaped = shapedObject(v, x.shaper, x.cut);
  if (shaped) x.event.mcp.capabilities = shaped;
}

function promptName(params: JsonObject, x: Extraction): void {
  const name = identifier(str(params.name), x.shaper, x.cut);
  if (name !== undefined) x.event.mcp.prompt = { name };
}

function resourceUri(params: JsonObject, x: Extraction): void {
  const uri = str(params.uri);
  if (uri !== undefined) x.event.mcp.resource = { uri: x.cut.keep(x.shaper.text(uri)) };
}

/** Server identity, capabilities and instructions, from initialize and server/discover results. */
function serverDescription(result: JsonObject, x: Extraction): void {
  const info = peerInfo(result.serverInfo, x.shaper.limits);
  if (info) x.facts.serverInfo = info;
  const instructions = str(result.instructions);
  if (instructions !== undefined) x.event.mcp.instructions = x.cut.keep(x.shaper.text(instructions));
  capabilities(result.capabilities, x);
}

/** Builds one list item from its raw form with a shaper of the item's limits. */
type ItemBuilder<T> = (raw: JsonObject, shaper: PayloadShaper, cut: TruncationTracker) => T;

function listOf<T>(items: unknown, x: Extraction, build: ItemBuilder<T>): T[] {
  const objects = Array.isArray(items) ? items.filter((i): i is JsonObject => obj(i) !== undefined) : [];
  return x.cut.keep(
    boundEach(objects, x.shaper.limits, (raw, itemLimits) => {
      const cut = new TruncationTracker();
      const value = build(raw as JsonObject, x.shaper.withLimits(itemLimits), cut);
      return { value, truncated: cut.truncated };
    }),
  );
}

/** Copies the optional text fields of a list item, redacted and bounded. */
function texts<K extends string>(raw: JsonObject, keys: readonly (readonly [from: string, to: K])[], shaper: PayloadShaper, cut: TruncationTracker): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [from, to] of keys) {
    const s = str(raw[from]);
    if (s !== undefined) out[to] = cut.keep(shaper.text(s));
  }
  return out;
}

const buildTool: ItemBuilder<EventTool> = (raw, shaper, cut) => {
  const name = str(raw.name) ?? '';
  const tool: EventTool = {
    name: identifier(name, shaper, cut) ?? '',
    hash: toolHash({ ...raw, name }),
    ...texts(raw, [['title', 'title'], ['description', 'description']], shaper, cut),
  };
  if (raw.inputSchema !== undefined) tool.input_schema = cut.keep(shaper.value(raw.inputSchema));
  if (raw.outputSchema !== undefined) tool.output_schema = cut.keep(shaper.value(raw.outputSchema));
  const annotations = shapedObject(raw.annotations, shaper, cut);
  if (annotations) tool.annotations = annotations;
  return tool;
};

const RESOURCE_TEXTS = [['name', 'name'], ['title', 'title'], ['description', 'description'], ['mimeType', 'mime_type'], ['uri', 'uri'], ['uriTemplate', 'uri_template']] as const;

const buildResource: ItemBuilder<EventResource> = (raw, shaper, cut) => texts(raw, RESOURCE_TEXTS, shaper, cut);

const buildPrompt: ItemBuilder<EventPrompt> = (raw, shaper, cut) => {
  const prompt: EventPrompt = { name: identifier(str(raw.name), shaper, cut) ?? '', ...texts(raw, [['title', 'title'], ['description', 'description']], shaper, cut) };
  if (raw.arguments !== undefined) prompt.arguments = cut.keep(shaper.value(raw.arguments));
  return prompt;
};

const api = (type: EventType, more: Omit<MethodEntry, 'category' | 'type'> = {}): MethodEntry => ({ category: ['api'], type: [type], ...more });

/** A list method (tools/list …) whose result array becomes a typed event list instead of staying in mcp.result. */
function listing<T>(resultKey: string, build: ItemBuilder<T>, assign: (x: Extraction, items: T[]) => void): MethodEntry {
  return api('info', { result: (r, x) => assign(x, listOf(r[resultKey], x, build)), resultElsewhere: [resultKey] });
}

/** gen_ai fields of a tools/call request or result; the call id is the JSON-RPC id. */
function setToolCall(x: Extraction, name: string, fields: Pick<ToolCall, 'arguments' | 'result'>): void {
  const call: ToolCall = { ...fields };
  const id = x.event.jsonrpc?.request?.id;
  if (id !== undefined) call.id = id;
  x.event.gen_ai = { operation: { name: 'execute_tool' }, tool: { name, call } };
}

const CATALOG: Readonly<Record<string, MethodEntry>> = {
  initialize: {
    category: ['session'],
    type: ['start'],
    params: (p, x) => {
      const info = peerInfo(p.clientInfo, x.shaper.limits);
      if (info) x.facts.clientInfo = info;
      capabilities(p.capabilities, x);
    },
    result: (r, x) => {
      const version = identifier(str(r.protocolVersion), x.shaper, x.cut);
      if (version !== undefined) x.facts.protocolVersion = version;
      serverDescription(r, x);
    },
    paramsElsewhere: ['capabilities'],
    resultElsewhere: ['protocolVersion', 'capabilities', 'instructions'],
  },
  'server/discover': { category: ['session'], type: ['info'], result: serverDescription, resultElsewhere: ['capabilities', 'instructions'] },
  'notifications/initialized': { category: ['session'], type: ['start'] },
  ping: { category: ['network'], type: ['connection'] },
  'tools/list': listing('tools', buildTool, (x, tools) => {
    x.event.mcp.tools = tools;
  }),
  'tools/call': api('access', {
    params: (p, x) => {
      const args = p.arguments === undefined ? {} : { arguments: x.cut.keep(x.shaper.value(p.arguments)) as JsonObject };
      setToolCall(x, identifier(str(p.name), x.shaper, x.cut) ?? '', args);
    },
    paramsElsewhere: ['arguments'],
    result: (r, x) => {
      setToolCall(x, x.event.gen_ai?.tool?.name ?? '', { result: x.cut.keep(x.shaper.value(r)) as JsonObject });
      if (r.isError === true) x.event.event.outcome = 'failure';
    },
    resultElsewhere: '*',
  }),
  'resources/list': listing('resources', buildResource, (x, resources) => {
    x.event.mcp.resources = resources;
  }),
  'resources/templates/list': listing('resourceTemplates', buildResource, (x, templates) => {
    x.event.mcp.resources = templates;
  }),
  'resources/read': api('access', { params: resourceUri }),
  'resources/subscribe': api('creation', { params: resourceUri }),
  'resources/unsubscribe': api('deletion', { params: resourceUri }),
  'prompts/list': listing('prompts', buildPrompt, (x, prompts) => {
    x.event.mcp.prompts = prompts;
  }),
  'prompts/get': api('access', { params: promptName }),
  'completion/complete': api('info', {
    params: (p, x) => {
      const ref = obj(p.ref);
      if (ref?.type === 'ref/prompt') promptName(ref, x);
      if (ref?.type === 'ref/resource') resourceUri(ref, x);
    },
  }),
  'logging/setLevel': { category: ['configuration'], type: ['change'] },
  'sampling/createMessage': api('access'),
  'elicitation/create': api('access'),
  'roots/list': api('info'),
  'tasks/get': api('info'),
  'tasks/result': api('access'),
  'tasks/list': api('info'),
  'tasks/cancel': api('deletion'),
  'subscriptions/listen': api('creation'),
  'notifications/tools/list_changed': api('change'),
  'notifications/prompts/list_changed': api('change'),
  'notifications/resources/list_changed': api('change'),
  'notifications/roots/list_changed': api('change'),
  'notifications/resources/updated': api('change', { params: resourceUri }),
  'notifications/progress': api('info'),
  'notifications/cancelled': api('deletion', {
    params: (p, x) => {
      const id = identifier(p.requestId, x.shaper, x.cut);
      if (id !== undefined) x.event.mcp.cancelled_request_id = id;
    },
  }),
  'notifications/message': api('info'),
  'notifications/elicitation/complete': api('change'),
  'notifications/tasks/status': api('change'),
};

const GENERIC: MethodEntry = api('info');
/** ECS category/type of a frame that is not a JSON-RPC message. */
export const UNPARSED_TRAITS = { category: ['api'], type: ['protocol'] } as const satisfies Pick<MethodEntry, 'category' | 'type'>;

/** The methods the catalogue knows. */
export const CATALOGUED_METHODS: readonly string[] = Object.keys(CATALOG);

/** ECS category and type for a method (generic for unknown methods); errors get type "error". */
export function methodTraits(method: string | undefined, isError = false): { category: EventCategory[]; type: EventType[] } {
  const entry = entryFor(method);
  return { category: [...entry.category], type: isError ? ['error'] : [...entry.type] };
}

function entryFor(method: string | undefined): MethodEntry {
  return (method !== undefined && Object.hasOwn(CATALOG, method) ? CATALOG[method] : undefined) ?? GENERIC;
}

function without(o: JsonObject, keys: readonly string[]): JsonObject {
  // Runs on every request and notification: a loop, not entries → filter → fromEntries (three arrays per message).
  const kept: JsonObject = {};
  for (const key of Object.keys(o)) {
    if (keys.includes(key)) continue;
    setJsonProperty(kept, key, o[key]);
  }
  return kept;
}

/** Fills an event from a request's or notification's params: method fields, 2026 _meta facts, then mcp.params. */
export function extractParams(method: string, params: unknown, x: Extraction): void {
  const p = obj(params);
  if (!p) {
    if (params !== undefined) x.event.mcp.params = x.cut.keep(x.shaper.value(params)) as JsonObject;
    return;
  }
  const meta = obj(p._meta);
  if (meta) {
    const version = identifier(str(meta[META_KEYS.protocolVersion]), x.shaper, x.cut);
    if (version !== undefined) x.facts.protocolVersion = version;
    const info = peerInfo(meta[META_KEYS.clientInfo], x.shaper.limits);
    if (info) x.facts.clientInfo = info;
    capabilities(meta[META_KEYS.clientCapabilities], x);
    const progress = identifier(meta.progressToken, x.shaper, x.cut);
    if (progress !== undefined) x.event.mcp.progress_token = progress;
  }
  const progress = method === 'notifications/progress' ? identifier(p.progressToken, x.shaper, x.cut) : undefined;
  if (progress !== undefined) x.event.mcp.progress_token = progress;
  const entry = entryFor(method);
  entry.params?.(p, x);
  const kept = without(p, entry.paramsElsewhere ?? []);
  if (Object.keys(kept).length > 0) x.event.mcp.params = x.cut.keep(x.shaper.value(kept)) as JsonObject;
}

/** Fills an event from a result: 2026 serverInfo/resultType, method fields, then mcp.result. */
export function extractResult(method: string | undefined, result: unknown, x: Extraction): void {
  const r = obj(result);
  if (!r) {
    if (result !== undefined) x.event.mcp.result = x.cut.keep(x.shaper.value(result)) as JsonObject;
    return;
  }
  const info = peerInfo(obj(r._meta)?.[META_KEYS.serverInfo], x.shaper.limits);
  if (info) x.facts.serverInfo = info;
  const resultType = identifier(str(r.resultType), x.shaper, x.cut);
  if (resultType !== undefined) x.event.mcp.result_type = resultType;
  const entry = entryFor(method);
  entry.result?.(r, x);
  if (entry.resultElsewhere === '*') return;
  const kept = without(r, entry.resultElsewhere ?? []);
  if (Object.keys(kept).length > 0) x.event.mcp.result = x.cut.keep(x.shaper.value(kept)) as JsonObject;
}
