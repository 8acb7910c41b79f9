/**
 * Builds McpAlert documents for every detector (Sigma rules, stateful detectors): severity from level, threat
 * from tags, MCP context from the first source event, and a deterministic fingerprint so replays and restarts
 * never duplicate an alert.
 */
import { hash } from 'node:crypto';
import { tapwireVersion } from '../pipeline/packagePaths.js';
import type { McpAlert } from '../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';

export type AlertLevel = 'informational' | 'low' | 'medium' | 'high' | 'critical';
export type AlertCategory = McpAlert['rule']['category'];

/** The rule (or detector) an alert names. */
export interface AlertRuleInfo {
  id: string;
  name: string;
  description: string;
  version: string;
  category: AlertCategory;
  level: AlertLevel;
  reference?: string;
  author?: string[];
  ruleset?: string;
  /** Sigma-style tags: attack.* / atlas.* / owasp-mcp.* become threat.technique; all are copied to tags. */
  tags?: readonly string[];
}

/** The MCP context an alert carries, taken from its first source event (small enough to keep in detector state). */
export interface AlertContext {
  ecsVersion: string;
  namespace: string;
  server?: { id?: string; name?: string; version?: string };
  sessionId?: string;
  hostSessionId?: string;
  method?: string;
  transport?: string;
  toolName?: string;
  hostname?: string;
}

/** One event that caused an alert. */
export interface AlertSource {
  id: string;
  timestamp: string;
}

export interface AlertInput {
  rule: AlertRuleInfo;
  /** Context of the first source event (alertContextOf). */
  context: AlertContext;
  /** Every event that caused the alert; at least one. */
  sources: readonly AlertSource[];
  /** Fields and values that matched; values are cut to 256 characters. */
  matched?: readonly { field: string; value?: string }[];
  /** Separates alerts a detector raises more than once from the same events (e.g. per tool). */
  discriminator?: string;
  /** One readable sentence; a default is written from the rule and context when absent. */
  message?: string;
  details?: Record<string, unknown>;
}

const SEVERITY: Record<AlertLevel, McpAlert['event']['severity']> = { informational: 21, low: 21, medium: 47, high: 73, critical: 99 };
const RISK: Record<AlertLevel, number> = { informational: 10, low: 21, medium: 47, high: 73, critical: 99 };
const MAX_MATCHED_VALUE = 256;

/** The alert context of an event. */
export function alertContextOf(event: McpEvent): AlertContext {
  const context: AlertContext = { ecsVersion: event.ecs.version, namespace: event.data_stream.namespace };
  const server = event.mcp.server;
  context.server = { id: server.id, name: server.name, ...(server.version === undefined ? {} : { version: server.version }) };
  context.sessionId = event.mcp.session.id;
  if (event.mcp.host_session) context.hostSessionId = event.mcp.host_session.id;
  const method = event.mcp.method?.name ?? event.event.action;
  if (method) context.method = method;
  context.transport = event.mcp.transport;
  if (event.gen_ai?.tool?.name !== undefined) context.toolName = event.gen_ai.tool.name;
  context.hostname = event.host.hostname;
  return context;
}

/** The id and time of an event, as an alert source. */
export function alertSourceOf(event: McpEvent): AlertSource {
  return { id: event.event.id, timestamp: event['@timestamp'] };
}

/**
 * sha256 over the rule id, the sorted source event ids and the optional discriminator, joined by newlines (the
 * discriminator after "#"). One-shot hashing of the joined text: the digest of the same bytes, without a Hash object
 * and an update call per part (the learned tier alone builds thousands of alerts per fleet replay).
 */
export function alertFingerprint(ruleId: string, sourceEventIds: readonly string[], discriminator?: string): string {
  let text = ruleId;
  for (const id of sourceEventIds.length > 1 ? [...sourceEventIds].sort() : sourceEventIds) text += `\n${id}`;
  if (discriminator !== undefined) text += `\n#${discriminator}`;
  return hash('sha256', text, 'hex');
}

const ATLAS_TAG = /^(?:atlas|attack)\.(?:aml\.)?(t[0-9]{4}(?:\.[0-9]{3})?)$/;
const ATTACK_TAG = /^attack\.(t[0-9]{4}(?:\.[0-9]{3})?)$/;
const OWASP_MCP_TAG = /^owasp-mcp\.(mcp[0-9]{2})$/;

/**
 * threat.{framework,technique} from the rule's tags; MITRE (ATLAS, else ATT&CK) wins over OWASP MCP Top 10.
 * Remembered per tags array (a rule's, the same for each of its alerts); every call returns its own copy.
 */
export function threatFromTags(tags: readonly string[]): McpAlert['threat'] | undefined {
  let threat = threats.get(tags);
  if (threat === undefined) {
    threat = threatOf(tags) ?? null;
    threats.set(tags, threat);
  }
  if (threat === null) return undefined;
  return threat.technique === undefined ? { ...threat } : { ...threat, technique: threat.technique.map((t) => ({ ...t })) };
}

const threats = new WeakMap<readonly string[], McpAlert['threat'] | null>();

function threatOf(tags: readonly string[]): McpAlert['threat'] | undefined {
  const atlas: string[] = [];
  const attack: string[] = [];
  const owasp: string[] = [];
  for (const tag of tags.map((t) => t.toLowerCase())) {
    const attackMatch = ATTACK_TAG.exec(tag);
    const atlasMatch = ATLAS_TAG.exec(tag);
    const owaspMatch = OWASP_MCP_TAG.exec(tag);
    if (attackMatch) attack.push((attackMatch[1] as string).toUpperCase());
    else if (atlasMatch) atlas.push(`AML.${(atlasMatch[1] as string).toUpperCase()}`);
    else if (owaspMatch) owasp.push((owaspMatch[1] as string).toUpperCase());
  }
  const unique = (ids: string[]): string[] => [...new Set(ids)];
  if (atlas.length > 0 || attack.length > 0) {
    return {
      framework: atlas.length > 0 ? 'MITRE ATLAS' : 'MITRE ATT&CK',
      technique: [
        ...unique(atlas).map((id) => ({ id, reference: `https://atlas.mitre.org/techniques/${id}` })),
        ...unique(attack).map((id) => ({ id, reference: `https://attack.mitre.org/techniques/${id.replace('.', '/')}/` })),
      ],
    };
  }
  if (owasp.length > 0) return { framework: 'OWASP MCP Top 10', technique: unique(owasp).map((id) => ({ id })) };
  return undefined;
}

function defaultMessage(rule: AlertRuleInfo, context: AlertContext, sourceCount: number): string {
  const where = [
    context.server?.name === undefined ? undefined : `on MCP server "${context.server.name}"`,
    context.toolName === undefined ? undefined : `tool "${context.toolName}"`,
    context.method === undefined ? undefined : `method ${context.method}`,
    context.sessionId === undefined ? undefined : `session ${context.sessionId}`,
  ].filter((part) => part !== undefined);
  const events = sourceCount === 1 ? '1 event' : `${sourceCount} events`;
  return `${rule.name} (${rule.level}) ${where.length > 0 ? `${where.join(', ')} ` : ''}from ${events}.`;
}

/** The matched entries, values bounded, each field and value once (several selections can match the same value). */
function distinctMatched(matched: readonly { field: string; value?: string }[]): NonNullable<McpAlert['alert']['matched']> {
  const seen = new Set<string>();
  const distinct: NonNullable<McpAlert['alert']['matched']> = [];
  for (const m of matched) {
    const entry = m.value === undefined ? { field: m.field } : { field: m.field, value: m.value.slice(0, MAX_MATCHED_VALUE) };
    // The field's length first: one key per (field, value) pair, whatever characters either holds.
    const key = entry.value === undefined ? `${entry.field.length}:${entry.field}` : `${entry.field.length}:${entry.field}=${entry.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    distinct.push(entry);
  }
  return distinct;
}

/** Builds the alert document; throws when there is no source event. */
export function buildAlert(input: AlertInput): McpAlert {
  const { rule, context, sources } = input;
  if (sources.length === 0) throw new Error(`alert for rule ${rule.id} has no source event`);
  const ids = sources.map((s) => s.id);
  const fingerprint = alertFingerprint(rule.id, ids, input.discriminator);
  const latest = sources.length === 1 ? (sources[0] as AlertSource) : sources.reduce((a, b) => (Date.parse(b.timestamp) > Date.parse(a.timestamp) ? b : a));
  const alert: McpAlert = {
    '@timestamp': latest.timestamp,
    ecs: { version: context.ecsVersion },
    message: input.message ?? defaultMessage(rule, context, sources.length),
    event: {
      kind: 'alert',
      category: ['intrusion_detection'],
      type: ['indicator'],
      dataset: 'mcp.alerts',
      id: fingerprint,
      severity: SEVERITY[rule.level],
      risk_score: RISK[rule.level],
    },
    data_stream: { type: 'logs', dataset: 'mcp.alerts', namespace: context.namespace },
    rule: { id: rule.id, name: rule.name, description: rule.description, version: rule.version, category: rule.category },
    alert: { fingerprint, source_event_ids: ids },
    observer: { product: 'tapwire', vendor: 'Tapwire', version: tapwireVersion() },
  };
  if (rule.reference !== undefined) alert.rule.reference = rule.reference;
  if (rule.author !== undefined && rule.author.length > 0) alert.rule.author = [...rule.author];
  if (rule.ruleset !== undefined) alert.rule.ruleset = rule.ruleset;
  if (input.matched && input.matched.length > 0) {
    alert.alert.matched = distinctMatched(input.matched);
  }
  if (input.details) alert.alert.details = input.details;
  const threat = rule.tags === undefined ? undefined : threatFromTags(rule.tags);
  if (threat) alert.threat = threat;
  if (rule.tags && rule.tags.length > 0) alert.tags = [...rule.tags];
  const mcp: NonNullable<McpAlert['mcp']> = {};
  if (context.server) mcp.server = { ...context.server };
  if (context.sessionId !== undefined) mcp.session = { id: context.sessionId };
  if (context.hostSessionId !== undefined) mcp.host_session = { id: context.hostSessionId };
  if (context.method !== undefined) mcp.method = { name: context.method };
  if (context.transport !== undefined) mcp.transport = context.transport;
  if (Object.keys(mcp).length > 0) alert.mcp = mcp;
  if (context.toolName !== undefined) alert.gen_ai = { tool: { name: context.toolName } };
  if (context.hostname !== undefined) alert.host = { hostname: context.hostname };
  return alert;
}
