/**
 * Where each MCP host keeps its server configuration on this OS, per scope, and the shape of its server entries.
 * Paths follow the hosts' documentation: Claude Desktop's claude_desktop_config.json (Linux builds use the XDG
 * config dir), Claude Code's ~/.claude.json (user scope at the top, local scope under projects[<dir>]) and the
 * project's .mcp.json, Cursor's ~/.cursor/mcp.json and <project>/.cursor/mcp.json, VS Code's user-profile mcp.json
 * and <project>/.vscode/mcp.json (JSONC, "servers"), and Windsurf's ~/.codeium/windsurf/mcp_config.json.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const HOSTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf'] as const;
export type HostName = (typeof HOSTS)[number];

/** How a host writes one server entry. */
export interface ServerFormat {
  /** The property that holds a remote server's URL ("url"; Windsurf also reads "serverUrl"). */
  urlFields: readonly string[];
  /** Whether stdio entries carry "type": "stdio" (VS Code requires it; Claude Code writes it). */
  typed: boolean;
}

/** One map of servers inside a config file: the JSON path of the object whose keys are server names. */
export interface ServerMapLocation {
  scope: 'user' | 'project' | 'local';
  path: (string | number)[];
}

/** One config file of a host. */
export interface HostConfigFile {
  host: HostName;
  file: string;
  maps: ServerMapLocation[];
  format: ServerFormat;
}

const PLAIN: ServerFormat = { urlFields: ['url'], typed: false };

/** The OS's per-user application-config directory: %APPDATA%, ~/Library/Application Support, or $XDG_CONFIG_HOME. */
function appConfigDir(): string {
  if (process.platform === 'win32') return process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support');
  return process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
}

/** Every config file `host` reads on this OS for the user and for the project in `projectDir`. */
export function hostConfigFiles(host: HostName, projectDir: string): HostConfigFile[] {
  const project = resolve(projectDir);
  const home = homedir();
  switch (host) {
    case 'claude-desktop':
      return [{ host, file: join(appConfigDir(), 'Claude', 'claude_desktop_config.json'), maps: [{ scope: 'user', path: ['mcpServers'] }], format: PLAIN }];
    case 'claude-code': {
      const format: ServerFormat = { urlFields: ['url'], typed: true };
      return [
        { host, file: join(home, '.claude.json'), maps: [{ scope: 'user', path: ['mcpServers'] }, { scope: 'local', path: ['projects', project, 'mcpServers'] }], format },
        { host, file: join(project, '.mcp.json'), maps: [{ scope: 'project', path: ['mcpServers'] }], format },
      ];
    }
    case 'cursor':
      return [
        { host, file: join(home, '.cursor', 'mcp.json'), maps: [{ scope: 'user', path: ['mcpServers'] }], format: PLAIN },
        { host, file: join(project, '.cursor', 'mcp.json'), maps: [{ scope: 'project', path: ['mcpServers'] }], format: PLAIN },
      ];
    case 'vscode': {
      const format: ServerFormat = { urlFields: ['url'], typed: true };
      return [
        { host, file: join(appConfigDir(), 'Code', 'User', 'mcp.json'), maps: [{ scope: 'user', path: ['servers'] }], format },
        { host, file: join(project, '.vscode', 'mcp.json'), maps: [{ scope: 'project', path: ['servers'] }], format },
      ];
    }
    case 'windsurf':
      return [{ host, file: join(home, '.codeium', 'windsurf', 'mcp_config.json'), maps: [{ scope: 'user', path: ['mcpServers'] }], format: { urlFields: ['serverUrl', 'url'], typed: false } }];
  }
}

/** A config file named with --config: VS Code's format when `host` says so or the file has "servers", else mcpServers. */
export function explicitConfigFile(file: string, host: HostName | undefined, text: string | undefined): HostConfigFile {
  const vscodeShape = host === 'vscode' || (host === undefined && text !== undefined && /"servers"\s*:/.test(text) && !/"mcpServers"\s*:/.test(text));
  const base = vscodeShape ? hostConfigFiles('vscode', '.')[1]! : host ? hostConfigFiles(host, '.')[0]! : hostConfigFiles('cursor', '.')[0]!;
  return { ...base, file: resolve(file), maps: [{ scope: 'user', path: base.maps[0]!.path }] };
}
