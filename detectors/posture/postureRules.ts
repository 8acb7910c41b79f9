/** The rules the protocol posture detectors raise: what each alert is called, how severe it is, and what it maps to. */
import type { AlertRuleInfo } from '../alertBuilder.js';
import type { Posture } from '../../pipeline/types/mcpEvent.js';

function postureRule(id: string, name: string, level: AlertRuleInfo['level'], description: string, tags: readonly string[], category: AlertRuleInfo['category'] = 'protocol'): AlertRuleInfo {
  return { id: `tapwire.posture.${id}`, name, description, version: '1', category, level, ruleset: 'tapwire', tags };
}

/** The rule of each posture finding the HTTP collector reports. */
export const POSTURE_RULES: Record<Posture['finding'], AlertRuleInfo> = {
  plaintext_upstream: postureRule('plaintext-upstream', 'Remote MCP server over plaintext HTTP', 'high', 'A remote MCP server is reached over http:// on a non-loopback address: tool calls, results and bearer tokens cross the network readable and changeable.', ['attack.t1552', 'owasp-mcp.mcp01']),
  no_authorization: postureRule('no-authorization', 'Remote MCP server accepts unauthenticated traffic', 'medium', 'A remote MCP server answered MCP requests that carried no Authorization header: anyone who can reach it can use its tools.', ['attack.t1190']),
  token_audience_mismatch: postureRule('token-audience-mismatch', 'Token audience is not the MCP server (token passthrough)', 'high', "A bearer token whose audience does not name the MCP server was sent to it: the server accepts tokens meant for another resource, or the client passes a token through (forbidden by the MCP authorization spec).", ['attack.t1552', 'owasp-mcp.mcp01']),
  token_in_query: postureRule('token-in-query', 'Credential in a URL query string', 'high', 'An MCP request carried a credential in its URL query string, where proxies, logs and browser history keep it; MCP requires the Authorization header.', ['attack.t1552', 'owasp-mcp.mcp01'], 'sensitive_data'),
  mcp_header_mismatch: postureRule('mcp-header-mismatch', 'MCP routing headers disagree with the body', 'medium', "A request's Mcp-Method or Mcp-Name header names a different method or target than its JSON-RPC body: gateways that route on headers see another request than the server executes.", ['attack.t1036']),
};

export const UNPARSED_STORM_RULE: AlertRuleInfo = {
  id: 'tapwire.protocol.unparsed-storm',
  name: 'Storm of unparsed MCP frames',
  description: 'One session produced many frames that are not valid JSON-RPC in a short window: a broken or hostile peer, protocol smuggling, or an attempt to blind the tap.',
  version: '1',
  category: 'protocol',
  level: 'medium',
  ruleset: 'tapwire',
};
