/** The rules the cross-server detector raises: what each alert is called, how severe it is, and what it maps to. */
import type { AlertRuleInfo } from '../alertBuilder.js';

function crossServerRule(id: string, name: string, category: AlertRuleInfo['category'], description: string, tags: readonly string[]): AlertRuleInfo {
  return { id: `tapwire.cross-server.${id}`, name, description, version: '1', category, level: 'high', ruleset: 'tapwire', tags };
}

export const CROSS_SERVER_RULES = {
  instruction: crossServerRule(
    'instruction-following',
    "Call follows another server's instruction",
    'cross_server_flow',
    "A call to one server's tool follows content another server returned (tool result, resource, prompt, sampling) that names the tool or its parameters: indirect prompt injection driving a cross-server action.",
    ['atlas.aml.t0051.001', 'atlas.aml.t0053'],
  ),
  dataFlow: crossServerRule(
    'data-flow',
    'Data from one server sent to another',
    'cross_server_flow',
    'A call to one server carries data another server returned (redacted secrets, copied passages, distinctive tokens, URLs); read-private-data to send/write/open-world flows weigh most.',
    ['atlas.aml.t0086', 'atlas.aml.t0057', 'owasp-mcp.mcp01'],
  ),
  shadowing: crossServerRule(
    'shadowing',
    "Tool description names another server's tool",
    'tool_shadowing',
    "A server's tool description or instructions name a tool of another server in the same host session: it tries to steer how the model uses a tool it does not own.",
    ['atlas.aml.t0051.001', 'owasp-mcp.mcp03'],
  ),
  nameCollision: crossServerRule(
    'name-collision',
    'Tool name taken by two servers',
    'tool_shadowing',
    'Two servers in one host session offer a tool of the same name with different definitions: the later one can hijack calls meant for the other (function priority hijacking).',
    ['atlas.aml.t0074', 'owasp-mcp.mcp03'],
  ),
} as const satisfies Record<string, AlertRuleInfo>;
