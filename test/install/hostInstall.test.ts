/**
 * `tapwire install` / `uninstall` on fixture configs of every host format, laid out where each host keeps them on
 * Linux (HOME and XDG_CONFIG_HOME point into a temp directory), run as real CLI processes.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProxyConfig } from '../../collectors/http/proxyConfig.js';
import { REPO_ROOT, runCli, tempHome } from '../support/tapwireCli.js';

const FIXTURES = join(REPO_ROOT, 'test', 'install', 'fixtures');

interface Machine {
  root: string;
  home: string;
  project: string;
  tapwireHome: string;
  env: NodeJS.ProcessEnv;
  /** Host config files by a short label. */
  files: Record<string, string>;
  remove(): void;
}

/** A user home and a project with one config file of each host, copied from the fixtures. */
function machine(): Machine {
  const { home: root, remove } = tempHome('tapwire-install-');
  const home = join(root, 'home');
  const project = join(root, 'project');
  const files: Record<string, string> = {
    claudeDesktop: join(home, '.config', 'Claude', 'claude_desktop_config.json'),
    claudeCode: join(home, '.claude.json'),
    claudeCodeProject: join(project, '.mcp.json'),
    cursor: join(home, '.cursor', 'mcp.json'),
    cursorProject: join(project, '.cursor', 'mcp.json'),
    vscodeProject: join(project, '.vscode', 'mcp.json'),
    windsurf: join(home, '.codeium', 'windsurf', 'mcp_config.json'),
  };
  const sources: Record<string, string> = {
    claudeDesktop: 'claude_desktop_config.json',
    claudeCode: 'claude.json',
    claudeCodeProject: 'project.mcp.json',
    cursor: 'cursor.mcp.json',
    cursorProject: 'cursor.mcp.json',
    vscodeProject: 'vscode.mcp.jsonc',
    windsurf: 'windsurf.mcp_config.json',
  };
  for (const [label, file] of Object.entries(files)) {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, readFileSync(join(FIXTURES, sources[label]!), 'utf8').replace('__PROJECT__', project));
  }
  const tapwireHome = join(root, 'tapwire');
  return { root, home, project, tapwireHome, env: { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TAPWIRE_HOME: tapwireHome }, files, remove };
}

/** Every file under `dir` with its bytes, by relative path. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path).toString('base64'));
    }
  };
  walk(dir);
  return files;
}

type Servers = Record<string, Record<string, unknown>>;
const jsonc = (file: string): Record<string, unknown> => parseJsonc(readFileSync(file, 'utf8'), [], { allowTrailingComma: true }) as Record<string, unknown>;
const servers = (file: string, key = 'mcpServers'): Servers => jsonc(file)[key] as Servers;

describe('tapwire install on every host format', () => {
  const m = machine();
  afterAll(m.remove);
  const run = (args: string[]) => runCli([...args, '--project', m.project], { env: m.env });

  it('--dry-run prints a diff of every host file and writes nothing', async () => {
    const before = snapshot(m.root);
    const result = await run(['install', '--host', 'all', '--dry-run']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout.toString();
    for (const file of Object.values(m.files)) expect(out).toContain(`+++ ${file}`);
    expect(out).toContain('+      "args": ["tap", "--name", "memory", "--", "npx", "-y", "@modelcontextprotocol/server-memory"],');
    expect(out).toContain('-      "url": "https://api.githubcopilot.com/mcp/",');
    expect(out).toContain('+      "url": "http://127.0.0.1:8787/github/mcp/",');
    expect(out).toContain('(dry run: nothing was written)');
    expect(snapshot(m.root)).toEqual(before);
  });

  it('wraps every stdio server, routes every remote one, keeps env, cwd, comments and the rest', async () => {
    const fixture = (name: string): Servers => (parseJsonc(readFileSync(join(FIXTURES, name), 'utf8'), [], { allowTrailingComma: true }) as { mcpServers?: Servers; servers?: Servers }).mcpServers ?? (parseJsonc(readFileSync(join(FIXTURES, name), 'utf8')) as { servers: Servers }).servers;
    const result = await run(['install']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain('edited 7 config files');

    const desktop = servers(m.files.claudeDesktop!);
    expect(desktop.memory).toEqual({ command: 'tapwire', args: ['tap', '--name', 'memory', '--', 'npx', '-y', '@modelcontextprotocol/server-memory'], env: fixture('claude_desktop_config.json').memory!.env });
    expect(desktop.notes).toEqual(fixture('claude_desktop_config.json').notes);
    expect(jsonc(m.files.claudeDesktop!).globalShortcut).toBe('Ctrl+Space');

    const code = jsonc(m.files.claudeCode!);
    expect(code.numStartups).toBe(42);
    expect((code.mcpServers as Servers).github).toEqual({ type: 'http', url: 'http://127.0.0.1:8787/github/mcp/', headers: { Authorization: 'Bearer ghp_secret' } });
    const local = ((code.projects as Record<string, { mcpServers: Servers }>)[m.project]!).mcpServers['local-only'];
    expect(local).toEqual({ type: 'stdio', command: 'tapwire', args: ['tap', '--name', 'local-only', '--', 'python3', '-m', 'local_server'], cwd: '/srv/local' });
    expect(servers(m.files.claudeCodeProject!)['team-db']!.env).toEqual({ DB_URL: '${DB_URL}' });
    expect(servers(m.files.claudeCodeProject!).sentry!.url).toBe('http://127.0.0.1:8787/sentry/sse?org=acme');

    expect(servers(m.files.cursor!)['no-args']).toEqual({ command: 'tapwire', args: ['tap', '--name', 'no-args', '--', '/usr/local/bin/my-mcp-server'] });

    const vscodeText = readFileSync(m.files.vscodeProject!, 'utf8');
    for (const comment of ['// VS Code MCP servers for this workspace', '/* the official memory server */', '// trailing comma in the array', '// a remote server']) expect(vscodeText).toContain(comment);
    const vscode = servers(m.files.vscodeProject!, 'servers');
    expect(vscode.memory!.env).toEqual({ API_KEY: '${input:api-key}' });
    expect(vscode.envfile).toEqual({ type: 'stdio', command: 'tapwire', args: ['tap', '--name', 'envfile', '--', 'node', '${workspaceFolder}/server.js'], envFile: '${workspaceFolder}/.env' });
    expect(vscode.remote!.url).toBe('http://127.0.0.1:8787/remote/mcp');

    const windsurf = servers(m.files.windsurf!);
    expect(windsurf.git).toEqual({ command: 'tapwire', args: ['tap', '--name', 'git', '--', 'uvx', 'mcp-server-git'], disabled: true, env: {} });
    expect(windsurf['remote-docs']).toEqual({ serverUrl: 'http://127.0.0.1:8787/remote-docs/mcp', disabled: false });
    expect(windsurf.python!.cwd).toBe('d:/path/to/mcp-ollama-python');
    expect(windsurf.python!.env).toEqual({ OLLAMA_HOST: 'http://127.0.0.1:11434' });

    const proxy = loadProxyConfig(join(m.tapwireHome, 'install', 'proxy.yaml'));
    expect(proxy.listen).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(Object.fromEntries(proxy.routes.map((r) => [r.name, r.upstream.href]))).toEqual({
      github: 'https://api.githubcopilot.com/mcp/',
      sentry: 'https://mcp.sentry.dev/sse?org=acme',
      linear: 'https://mcp.linear.app/sse',
      remote: 'https://mcp.example.com/mcp',
      'remote-docs': 'https://docs.example.com/mcp',
    });
    expect(readFileSync(join(m.home, '.config', 'systemd', 'user', 'tapwire-proxy.service'), 'utf8')).toContain(`proxy --config ${join(m.tapwireHome, 'install', 'proxy.yaml')}`);
  });

  it('is idempotent: a second run changes no byte', async () => {
    const before = snapshot(m.root);
    const result = await run(['install']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain('nothing to change');
    expect(snapshot(m.root)).toEqual(before);
  });

  it('uninstall restores every file byte for byte and removes the proxy routes and service', async () => {
    const result = await run(['uninstall']);
    expect(result.code).toBe(0);
    for (const [label, file] of Object.entries(m.files)) {
      const source = { claudeDesktop: 'claude_desktop_config.json', claudeCode: 'claude.json', claudeCodeProject: 'project.mcp.json', cursor: 'cursor.mcp.json', cursorProject: 'cursor.mcp.json', vscodeProject: 'vscode.mcp.jsonc', windsurf: 'windsurf.mcp_config.json' }[label]!;
      expect(readFileSync(file, 'utf8'), label).toBe(readFileSync(join(FIXTURES, source), 'utf8').replace('__PROJECT__', m.project));
    }
    expect(snapshot(m.tapwireHome).has(join('install', 'proxy.yaml'))).toBe(false);
    expect(() => statSync(join(m.home, '.config', 'systemd', 'user', 'tapwire-proxy.service'))).toThrow();
  });
});

describe('tapwire install edge cases', () => {
  it('a config edited by hand after install is unwrapped in place, keeping the edit', async () => {
    const m = machine();
    try {
      const run = (args: string[]) => runCli([...args, '--project', m.project, '--host', 'cursor'], { env: m.env });
      expect((await run(['install'])).code).toBe(0);
      const edited = readFileSync(m.files.cursor!, 'utf8').replace('"mcpServers": {', '"mcpServers": {\n\t\t"added-later": { "command": "node", "args": ["later.js"] },');
      writeFileSync(m.files.cursor!, edited);
      const result = await run(['uninstall']);
      expect(result.code).toBe(0);
      expect(result.stdout.toString()).toContain('unwrapped in place');
      const after = servers(m.files.cursor!);
      expect(after['added-later']).toEqual({ command: 'node', args: ['later.js'] });
      expect(after.browser).toEqual({ command: 'npx', args: ['@browsermcp/mcp@latest'] });
      expect(after.linear).toEqual({ url: 'https://mcp.linear.app/sse' });
      expect(after['no-args']).toEqual({ command: '/usr/local/bin/my-mcp-server', args: [] });
    } finally {
      m.remove();
    }
  });

  it('a config that does not parse is named with its line and left alone; the others are still installed', async () => {
    const m = machine();
    try {
      const broken = '{\n  "mcpServers": {\n    "x": { "command": "a" }\n  \n';
      writeFileSync(m.files.windsurf!, broken);
      const result = await runCli(['install', '--project', m.project], { env: m.env });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`${m.files.windsurf!.replace(/[.]/g, '\\.')}:5:1: \\w+`));
      expect(readFileSync(m.files.windsurf!, 'utf8')).toBe(broken);
      expect(servers(m.files.cursor!).browser!.command).toBe('tapwire');
    } finally {
      m.remove();
    }
  });

  it('--config installs into one file, and --proxy-listen refuses a non-loopback address', async () => {
    const m = machine();
    try {
      const refused = await runCli(['install', '--config', m.files.windsurf!, '--proxy-listen', '0.0.0.0:8787'], { env: m.env });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('loopback only');
      const result = await runCli(['install', '--config', m.files.windsurf!, '--host', 'windsurf'], { env: m.env });
      expect(result.code).toBe(0);
      expect(servers(m.files.windsurf!).git!.command).toBe('tapwire');
      expect(servers(m.files.cursor!).browser!.command).toBe('npx');
      const moved = await runCli(['install', '--config', m.files.windsurf!, '--host', 'windsurf', '--proxy-listen', '127.0.0.1:9999'], { env: m.env });
      expect(moved.code).toBe(2);
      expect(moved.stderr).toContain("host configs already use the proxy at 127.0.0.1:8787; run 'tapwire uninstall' first");
    } finally {
      m.remove();
    }
  });
});
