/**
 * The MCP log source: `logsource: {product: mcp, category: <name>}` selects events with this one table.
 * Each category is a filter on the method (mcp.method.name, else event.action), the message kind
 * (mcp.message.kind) or the presence of a field; the engine indexes rules by category with it.
 */
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

type MessageKind = NonNullable<McpEvent['mcp']['message']>['kind'];

export interface McpLogsourceCategory {
  name: string;
  description: string;
  /** The event's method must be one of these (absent: any method). */
  methods?: readonly string[];
  /** The event's message kind must be one of these (absent: any kind). */
  kinds?: readonly MessageKind[];
  /** A top-level event field that must be present. */
  present?: keyof McpEvent;
}

/** The only product the engine knows. */
export const MCP_PRODUCT = 'mcp';

/** Every category a Tapwire Sigma rule may name. */
export const MCP_LOGSOURCE_CATEGORIES: readonly McpLogsourceCategory[] = [
  { name: 'tool_list', description: 'tools/list responses (mcp.tools[])', methods: ['tools/list'], kinds: ['response'] },
  { name: 'tool_call', description: 'tools/call requests (gen_ai.tool.name, gen_ai.tool.call.arguments)', methods: ['tools/call'], kinds: ['request'] },
  { name: 'tool_result', description: 'tools/call responses and errors (gen_ai.tool.call.result)', methods: ['tools/call'], kinds: ['response', 'error'] },
  { name: 'resource_list', description: 'resources/list and resources/templates/list responses (mcp.resources[])', methods: ['resources/list', 'resources/templates/list'], kinds: ['response'] },
  { name: 'resource_read', description: 'resources/read responses and errors (mcp.result.contents[])', methods: ['resources/read'], kinds: ['response', 'error'] },
  { name: 'prompt_list', description: 'prompts/list responses (mcp.prompts[])', methods: ['prompts/list'], kinds: ['response'] },
  { name: 'prompt_get', description: 'prompts/get requests, responses and errors', methods: ['prompts/get'], kinds: ['request', 'response', 'error'] },
  { name: 'initialize', description: 'initialize and server/discover exchanges (mcp.instructions)', methods: ['initialize', 'server/discover'] },
  { name: 'sampling', description: 'sampling/createMessage requests (server to client)', methods: ['sampling/createMessage'], kinds: ['request'] },
  { name: 'elicitation', description: 'elicitation/create requests (server to client)', methods: ['elicitation/create'], kinds: ['request'] },
  { name: 'notification', description: 'every notification', kinds: ['notification'] },
  { name: 'error', description: 'every JSON-RPC error response', kinds: ['error'] },
  { name: 'unparsed', description: 'frames the collector could not parse', kinds: ['unparsed'] },
  { name: 'http', description: 'events carrying http.* (HTTP transports)', present: 'http' },
];

const byName = new Map(MCP_LOGSOURCE_CATEGORIES.map((c) => [c.name, c]));
const byMethod = new Map<string, McpLogsourceCategory[]>();
const methodless: McpLogsourceCategory[] = [];
for (const category of MCP_LOGSOURCE_CATEGORIES) {
  if (!category.methods) {
    methodless.push(category);
    continue;
  }
  for (const method of category.methods) byMethod.set(method, [...(byMethod.get(method) ?? []), category]);
}

/** The category of that name, if the table has it. */
export function mcpLogsourceCategory(name: string): McpLogsourceCategory | undefined {
  return byName.get(name);
}

function selects(category: McpLogsourceCategory, event: McpEvent, kind: MessageKind | undefined): boolean {
  if (category.kinds && (kind === undefined || !category.kinds.includes(kind))) return false;
  if (category.present && event[category.present] === undefined) return false;
  return true;
}

/** The names of every category the event belongs to. */
export function logsourceCategoriesOf(event: McpEvent): string[] {
  const method = event.mcp?.method?.name ?? event.event?.action;
  const kind = event.mcp?.message?.kind;
  const names: string[] = [];
  for (const category of (method !== undefined && byMethod.get(method)) || []) if (selects(category, event, kind)) names.push(category.name);
  for (const category of methodless) if (selects(category, event, kind)) names.push(category.name);
  return names;
}
