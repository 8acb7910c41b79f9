/** The rules the server-identity detector raises: unknown, impersonating, re-versioned and newly seen servers. */
import type { AlertRuleInfo } from '../alertBuilder.js';

function identityRule(id: string, name: string, category: AlertRuleInfo['category'], level: AlertRuleInfo['level'], description: string, tags: readonly string[]): AlertRuleInfo {
  return { id: `tapwire.server-identity.${id}`, name, description, version: '1', category, level, ruleset: 'tapwire', tags };
}

const SHADOW = ['owasp-mcp.mcp09'] as const;
const SUPPLY_CHAIN = ['atlas.aml.t0010.001', 'owasp-mcp.mcp04'] as const;

/** Every server-identity rule, by what it detects. */
export const IDENTITY_RULES = {
  unknownServer: identityRule('unknown-server', 'MCP server not in the inventory', 'unknown_server', 'medium', 'A server whose command line or URL matches no entry of the approved inventory (a shadow MCP server).', SHADOW),
  knownNameOtherCommand: identityRule('known-name-other-command', 'Known server name with a different command or URL', 'server_impersonation', 'high', 'A server uses the name of an approved server but runs a command, or sits at a URL, that the inventory does not approve for that name.', SUPPLY_CHAIN),
  versionMismatch: identityRule('version-mismatch', 'Known server with an unapproved version', 'server_impersonation', 'medium', 'An approved server reports a serverInfo.version that its inventory entry does not allow.', SUPPLY_CHAIN),
  lookalikeName: identityRule('lookalike-name', 'Server name imitates a known one', 'server_impersonation', 'high', 'A server name is a confusable (homoglyph) or one-edit variant of a known server name.', SUPPLY_CHAIN),
  versionChanged: identityRule('version-changed', 'Server version changed', 'server_impersonation', 'low', 'The same server identity reports a different serverInfo.version than before, and no inventory entry approves the new one.', SUPPLY_CHAIN),
  newHost: identityRule('new-host', 'Server first seen on a host', 'unknown_server', 'low', 'A server appears on a host it was never seen on before.', SHADOW),
  firstSight: identityRule('first-sight', 'Server first seen on the fleet', 'unknown_server', 'informational', 'First sight of a server identity anywhere on the fleet (no inventory is configured, so it cannot be judged).', SHADOW),
} as const satisfies Record<string, AlertRuleInfo>;
