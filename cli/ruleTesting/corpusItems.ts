/**
 * The labelled corpus the rule pack is measured against (test/corpus). A corpus file is YAML:
 *
 *   label: malicious            # or benign: every item of the file has this label
 *   items:
 *     - id: tp-weather-aws       # unique over the corpus
 *       category: tool_poisoning # malicious items: the rule.category an alert must carry to count as detected
 *       server: weather-now      # the server name (transcript `server`); server_command / server_url optional
 *       redact: false            # optional: skip the collector's redaction (a producer that does not redact)
 *       tools: [...]             # exactly one payload key, see PAYLOAD_KINDS
 *
 * Each item is one thing a server or host sends (a tool list, a call, a result …); it becomes a short
 * transcript (docs/ARCHITECTURE.md records: the request and, where there is one, the response) and so goes through the
 * normalizer like live traffic.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TapwireCategory } from '../../detectors/sigma/ruleModel.js';
import { tapwireCategories } from '../../detectors/sigma/categoryTag.js';
import { parseYamlDocuments, type YamlEntry, type YamlNode } from '../../detectors/sigma/positionedYaml.js';
import { SigmaRuleError } from '../../detectors/sigma/ruleError.js';
import type { TranscriptLine } from './transcriptEvents.js';
import { plainYamlValue } from './yamlValue.js';

/** Every item of a corpus file is one or the other. */
export type CorpusLabel = 'malicious' | 'benign';

/** What an item holds; the key of its payload. */
export type CorpusKind = 'tools' | 'initialize' | 'prompts' | 'resources' | 'call' | 'result' | 'resource' | 'prompt' | 'sampling' | 'elicitation';

/** The quality report groups benign items by what they are. */
export type CorpusClass = 'definitions' | 'calls' | 'results' | 'server requests';

/** Payload key → what it is and the class it counts in. */
export const PAYLOAD_KINDS: Readonly<Record<CorpusKind, { describes: string; class: CorpusClass }>> = {
  tools: { describes: 'tools/list result tools (MCP Tool objects)', class: 'definitions' },
  initialize: { describes: 'initialize result: {serverInfo, instructions?}', class: 'definitions' },
  prompts: { describes: 'prompts/list result prompts', class: 'definitions' },
  resources: { describes: 'resources/list result resources', class: 'definitions' },
  call: { describes: 'tools/call params: {name, arguments}', class: 'calls' },
  result: { describes: 'a tools/call and its result: {name, arguments?, result}', class: 'results' },
  resource: { describes: 'resources/read: {uri, contents}', class: 'results' },
  prompt: { describes: 'prompts/get: {name, arguments?, result}', class: 'results' },
  sampling: { describes: 'sampling/createMessage params (server to client)', class: 'server requests' },
  elicitation: { describes: 'elicitation/create params (server to client)', class: 'server requests' },
};

/** One labelled item. */
export interface CorpusItem {
  id: string;
  file: string;
  line: number;
  label: CorpusLabel;
  /** For malicious items: the category an alert must have. */
  category?: TapwireCategory;
  kind: CorpusKind;
  server: string;
  serverCommand?: string;
  serverUrl?: string;
  redact: boolean;
  payload: Record<string, unknown> | unknown[];
}

const ITEM_KEYS = new Set(['id', 'category', 'server', 'server_command', 'server_url', 'redact', ...Object.keys(PAYLOAD_KINDS)]);
const LIST_KINDS: ReadonlySet<CorpusKind> = new Set(['tools', 'prompts', 'resources']);


function itemFrom(file: string, label: CorpusLabel, node: YamlNode): CorpusItem {
  const fail = (line: number, message: string): never => {
    throw new SigmaRuleError(file, line, message);
  };
  if (node.kind !== 'map') return fail(node.line, 'a corpus item must be a map');
  const entries = new Map(node.entries.map((e) => [e.key, e]));
  const unknown = node.entries.find((e) => !ITEM_KEYS.has(e.key));
  if (unknown) fail(unknown.line, `corpus item: unknown key '${unknown.key}'`);
  const text = (key: string, required: boolean): string | undefined => {
    const entry = entries.get(key);
    if (!entry) return required ? fail(node.line, `corpus item: '${key}' is required`) : undefined;
    const value = entry.value;
    if (value.kind !== 'scalar' || typeof value.value !== 'string' || value.value === '') return fail(entry.line, `corpus item: '${key}' must be a non-empty string`);
    return value.value;
  };
  const id = text('id', true) as string;
  const payloads = node.entries.filter((e) => Object.hasOwn(PAYLOAD_KINDS, e.key));
  if (payloads.length !== 1) fail(node.line, `corpus item '${id}': needs exactly one of ${Object.keys(PAYLOAD_KINDS).join(', ')} (found ${payloads.length})`);
  const payloadEntry = payloads[0] as YamlEntry;
  const kind = payloadEntry.key as CorpusKind;
  const payload = plainYamlValue(payloadEntry.value);
  const isList = Array.isArray(payload);
  if (LIST_KINDS.has(kind) !== isList || payload === null || typeof payload !== 'object') fail(payloadEntry.line, `corpus item '${id}': ${kind} must be ${LIST_KINDS.has(kind) ? 'a list' : 'a map'} (${PAYLOAD_KINDS[kind].describes})`);
  const category = text('category', label === 'malicious');
  if (category !== undefined && !(tapwireCategories() as readonly string[]).includes(category)) fail(entries.get('category')?.line ?? node.line, `corpus item '${id}': category '${category}' is not one of ${tapwireCategories().join(', ')}`);
  const redact = entries.get('redact');
  if (redact && (redact.value.kind !== 'scalar' || typeof redact.value.value !== 'boolean')) fail(redact.line, `corpus item '${id}': redact must be true or false`);
  const item: CorpusItem = { id, file, line: node.line, label, kind, server: text('server', true) as string, redact: redact?.value.kind !== 'scalar' || redact.value.value !== false, payload: payload as CorpusItem['payload'] };
  if (category !== undefined) item.category = category as TapwireCategory;
  const serverCommand = text('server_command', false);
  if (serverCommand !== undefined) item.serverCommand = serverCommand;
  const serverUrl = text('server_url', false);
  if (serverUrl !== undefined) item.serverUrl = serverUrl;
  return item;
}

/** Reads one corpus file; bad items are reported and skipped, the others kept. */
export function parseCorpusFile(file: string, text: string): { items: CorpusItem[]; errors: SigmaRuleError[] } {
  const { documents, errors } = parseYamlDocuments(file, text);
  const items: CorpusItem[] = [];
  const root = documents[0]?.root;
  try {
    if (documents.length !== 1 || root?.kind !== 'map') throw new SigmaRuleError(file, root?.line ?? 1, 'a corpus file is one YAML map with label and items');
    const label = root.entries.find((e) => e.key === 'label');
    const labelValue = label?.value.kind === 'scalar' ? label.value.value : undefined;
    if (labelValue !== 'malicious' && labelValue !== 'benign') throw new SigmaRuleError(file, label?.line ?? root.line, "label must be 'malicious' or 'benign'");
    const list = root.entries.find((e) => e.key === 'items');
    if (list?.value.kind !== 'seq') throw new SigmaRuleError(file, list?.line ?? root.line, 'items must be a list');
    for (const node of list.value.items) {
      try {
        items.push(itemFrom(file, labelValue, node));
      } catch (error) {
        if (!(error instanceof SigmaRuleError)) throw error;
        errors.push(error);
      }
    }
  } catch (error) {
    if (!(error instanceof SigmaRuleError)) throw error;
    errors.push(error);
  }
  return { items, errors };
}

/** Every corpus file under the directories (recursively, .yml/.yaml), read; item ids must be unique across them. */
export function loadCorpus(dirs: readonly string[]): { items: CorpusItem[]; errors: SigmaRuleError[] } {
  const items: CorpusItem[] = [];
  const errors: SigmaRuleError[] = [];
  const visit = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) visit(child);
      else if (/\.ya?ml$/.test(entry.name)) {
        const parsed = parseCorpusFile(child, readFileSync(child, 'utf8'));
        items.push(...parsed.items);
        errors.push(...parsed.errors);
      }
    }
  };
  for (const dir of dirs) visit(dir);
  const seen = new Map<string, CorpusItem>();
  for (const item of items) {
    const first = seen.get(item.id);
    if (first) errors.push(new SigmaRuleError(item.file, item.line, `corpus item id '${item.id}' is already used at ${first.file}:${first.line}`));
    else seen.set(item.id, item);
  }
  return { items, errors };
}

const INITIALIZE_PARAMS = { protocolVersion: '2025-11-25', capabilities: { sampling: {}, elicitation: {} }, clientInfo: { name: 'tapwire-corpus', version: '1.0.0' } };

/** The item as transcript records: the request, and the response where the item is a result. */
export function corpusTranscript(item: CorpusItem): TranscriptLine[] {
  const base = { server: item.server, ...(item.serverCommand === undefined ? {} : { server_command: item.serverCommand }), ...(item.serverUrl === undefined ? {} : { server_url: item.serverUrl }) };
  const request = (id: number | string, method: string, params?: unknown, toClient = false): TranscriptLine => ({
    value: { ...base, direction: toClient ? 'server_to_client' : 'client_to_server', message: { jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) } },
    line: item.line,
  });
  const response = (id: number | string, result: unknown): TranscriptLine => ({ value: { ...base, direction: 'server_to_client', message: { jsonrpc: '2.0', id, result } }, line: item.line });
  const p = item.payload as Record<string, unknown>;
  switch (item.kind) {
    case 'tools':
      return [request(1, 'tools/list'), response(1, { tools: item.payload })];
    case 'prompts':
      return [request(1, 'prompts/list'), response(1, { prompts: item.payload })];
    case 'resources':
      return [request(1, 'resources/list'), response(1, { resources: item.payload })];
    case 'initialize':
      return [request(0, 'initialize', INITIALIZE_PARAMS), response(0, { protocolVersion: '2025-11-25', capabilities: { tools: {} }, ...p })];
    case 'call':
      return [request(2, 'tools/call', p)];
    case 'result':
      return [request(2, 'tools/call', { name: p.name, arguments: p.arguments ?? {} }), response(2, p.result)];
    case 'resource':
      return [request(3, 'resources/read', { uri: p.uri }), response(3, { contents: p.contents })];
    case 'prompt':
      return [request(4, 'prompts/get', { name: p.name, ...(p.arguments === undefined ? {} : { arguments: p.arguments }) }), response(4, p.result)];
    case 'sampling':
      return [request('s-1', 'sampling/createMessage', p, true)];
    case 'elicitation':
      return [request('e-1', 'elicitation/create', p, true)];
  }
}
