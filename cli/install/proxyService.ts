/**
 * The local `tapwire proxy` that install routes remote servers through: its routes file (the proxy's YAML config
 * format) and a user service that keeps it running — a systemd --user unit on Linux, a launchd agent on macOS — or,
 * elsewhere, the command to run it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { InstalledRoute } from './installManifest.js';

/** A file install writes besides the host configs, with its new content (undefined: remove it). */
export interface GeneratedFile {
  file: string;
  content: string | undefined;
  /** What to run after writing it, for the user. */
  next?: string;
}

/** The proxy's YAML config for the routes. */
export function proxyConfigText(listen: string, routes: readonly InstalledRoute[]): string {
  const header = '# Written by `tapwire install`: one route per remote MCP server of the host configs. Edited by install/uninstall.\n';
  return header + stringify({ listen, routes: routes.map((r) => ({ name: r.name, path: r.path, upstream: r.upstream })) });
}

/** The argv that runs the proxy: this Node and this tapwire script, so the service does not depend on PATH. */
export function proxyArgv(proxyConfig: string, home: string): string[] {
  return [process.execPath, process.argv[1] ?? 'tapwire', 'proxy', '--config', proxyConfig, '--home', home];
}

const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);

/** The shell command line that runs the proxy in the foreground. */
export function proxyCommandLine(proxyConfig: string, home: string): string {
  return proxyArgv(proxyConfig, home).map(quote).join(' ');
}

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The user service for this OS, or undefined where there is none to write (then the command is printed). */
export function proxyService(proxyConfig: string, home: string, remove: boolean): GeneratedFile | undefined {
  const argv = proxyArgv(proxyConfig, home);
  if (process.platform === 'linux') {
    const file = join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'systemd', 'user', 'tapwire-proxy.service');
    const content = [
      '[Unit]',
      'Description=Tapwire proxy for the remote MCP servers of this user\'s hosts (written by tapwire install)',
      '',
      '[Service]',
      `ExecStart=${argv.map((a) => (/[\s"\\]/.test(a) ? `"${a.replace(/(["\\])/g, '\\$1')}"` : a)).join(' ')}`,
      'Restart=on-failure',
      '',
      '[Install]',
      'WantedBy=default.target',
      '',
    ].join('\n');
    return remove
      ? { file, content: undefined, next: 'systemctl --user disable --now tapwire-proxy.service' }
      : { file, content, next: 'systemctl --user daemon-reload && systemctl --user enable --now tapwire-proxy.service' };
  }
  if (process.platform === 'darwin') {
    const file = join(homedir(), 'Library', 'LaunchAgents', 'dev.tapwire.proxy.plist');
    const content = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>dev.tapwire.proxy</string>
  <key>ProgramArguments</key>
  <array>
${argv.map((a) => `    <string>${escapeXml(a)}</string>`).join('\n')}
  </array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><true/>
</dict>
</plist>
`;
    return remove ? { file, content: undefined, next: `launchctl unload ${quote(file)}` } : { file, content, next: `launchctl load -w ${quote(file)}` };
  }
  return undefined;
}
