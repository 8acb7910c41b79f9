/**
 * What `tapwire install` writes must start: an official server (server-memory) is launched with the SDK client from
 * the wrapped command line exactly as the host would run it (the `tapwire` on PATH), and a remote server is reached
 * through the proxy route install wrote, run as `tapwire proxy --config <the written file>`.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parse as parseJsonc } from 'jsonc-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { startProxy } from '../http/proxyHarness.js';
import { startStreamableServer } from '../http/sdkHttpServers.js';
import { busEvents, REPO_ROOT, requireBuiltCli, runCli, tempHome } from '../support/tapwireCli.js';
import { freePort } from '../support/freePort.js';

const MEMORY_SERVER = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js');


describe('a wrapped host config starts for real', () => {
  const { home: root, remove } = tempHome('tapwire-wrapped-');
  afterAll(remove);
  const bin = join(root, 'bin');
  const tapwireHome = join(root, 'tapwire');
  const config = join(root, 'claude_desktop_config.json');
  // `tapwire` on PATH, as `npm install -g` or `npm link` would put it.
  mkdirSync(bin);
  writeFileSync(join(bin, 'tapwire'), `#!/bin/sh\nexec "${process.execPath}" "${requireBuiltCli()}" "$@"\n`);
  chmodSync(join(bin, 'tapwire'), 0o755);
  const PATH = `${bin}${delimiter}${process.env.PATH}`;

  it('runs @modelcontextprotocol/server-memory through the wrapped command line, and the tap records it', async () => {
    const memoryFile = join(root, 'memory.jsonl');
    writeFileSync(config, `${JSON.stringify({ mcpServers: { memory: { command: process.execPath, args: [MEMORY_SERVER], env: { MEMORY_FILE_PATH: memoryFile } } } }, null, 2)}\n`);
    const install = await runCli(['install', '--config', config, '--host', 'claude-desktop', '--home', tapwireHome]);
    expect(install.code).toBe(0);
    const entry = (parseJsonc(readFileSync(config, 'utf8')) as { mcpServers: { memory: { command: string; args: string[]; env: Record<string, string> } } }).mcpServers.memory;
    expect(entry.command).toBe('tapwire');

    const client = new Client({ name: 'claude-desktop', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: entry.command, args: entry.args, env: { ...entry.env, PATH }, stderr: 'pipe' }));
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('create_entities');
    await client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote the first program'] }] } });
    await client.close();
    expect(readFileSync(memoryFile, 'utf8')).toContain('"name":"Ada"');

    const events = await busEvents(tapwireHome);
    expect(new Set(events.map((e) => e.mcp.server.name))).toEqual(new Set(['memory']));
    expect(events.some((e) => e.event.action === 'tools/call' && e.gen_ai?.tool?.name === 'create_entities')).toBe(true);
  });

  it('routes a remote server through the proxy config it wrote', async () => {
    const upstream = await startStreamableServer({ stateful: true, json: false });
    const port = await freePort();
    const vscode = join(root, 'mcp.json');
    writeFileSync(vscode, `{\n  // a remote server\n  "servers": {\n    "remote-echo": { "type": "http", "url": "${upstream.url}" }\n  }\n}\n`);
    const install = await runCli(['install', '--config', vscode, '--host', 'vscode', '--home', tapwireHome, '--proxy-listen', `127.0.0.1:${port}`, '--no-service']);
    expect(install.code).toBe(0);
    expect(install.stdout.toString()).toContain(`proxy --config ${join(tapwireHome, 'install', 'proxy.yaml')}`);
    const url = (parseJsonc(readFileSync(vscode, 'utf8')) as { servers: Record<string, { url: string }> }).servers['remote-echo']!.url;
    expect(url).toBe(`http://127.0.0.1:${port}/remote-echo${new URL(upstream.url).pathname}`);

    const proxy = await startProxy(['--config', join(tapwireHome, 'install', 'proxy.yaml'), '--home', tapwireHome, '--listen', `127.0.0.1:${port}`]);
    try {
      const client = new Client({ name: 'vscode', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      await client.close();
    } finally {
      await proxy.stop();
      await upstream.close();
    }
    const events = await busEvents(tapwireHome);
    expect(events.some((e) => e.mcp.server.name === 'remote-echo' && e.event.action === 'tools/list')).toBe(true);
    const uninstall = await runCli(['uninstall', '--config', vscode, '--host', 'vscode', '--home', tapwireHome]);
    expect(uninstall.code).toBe(0);
    expect(readFileSync(vscode, 'utf8')).toContain(`"url": "${upstream.url}"`);
  });
});
