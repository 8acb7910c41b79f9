/**
 * Benign corpus items captured at test time from the official MCP server packages (devDependencies): each
 * server runs over stdio behind the SDK client, and every tool, prompt and resource definition it lists, plus
 * its identity and instructions, becomes one item.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CorpusItem } from '../../cli/ruleTesting/corpusItems.js';
import { REPO_ROOT } from '../support/tapwireCli.js';

interface OfficialServer {
  /** The package name under @modelcontextprotocol/. */
  name: string;
  args: (workDir: string) => string[];
  env?: (workDir: string) => Record<string, string>;
}

/** The official server packages (devDependencies) and how each is started. */
export const OFFICIAL_SERVERS: readonly OfficialServer[] = [
  { name: 'server-filesystem', args: (workDir) => [workDir] },
  { name: 'server-memory', args: () => [], env: (workDir) => ({ MEMORY_FILE_PATH: join(workDir, 'memory.jsonl') }) },
  { name: 'server-everything', args: () => ['stdio'] },
  { name: 'server-sequential-thinking', args: () => [] },
];

/** Collects every page of a paginated list. */
async function allPages<T>(list: (cursor?: string) => Promise<{ nextCursor?: string } & Record<string, unknown>>, key: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    items.push(...((page[key] as T[] | undefined) ?? []));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return items;
}

async function capture(server: OfficialServer, workDir: string): Promise<CorpusItem[]> {
  const entry = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', server.name, 'dist', 'index.js');
  const client = new Client({ name: 'tapwire-corpus', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [entry, ...server.args(workDir)], env: server.env?.(workDir) ?? {}, stderr: 'pipe' }));
  try {
    const info = client.getServerVersion();
    const capabilities = client.getServerCapabilities() ?? {};
    const file = `@modelcontextprotocol/${server.name} (captured)`;
    const base = { file, line: 1, label: 'benign' as const, server: info?.name ?? server.name, serverCommand: `npx -y @modelcontextprotocol/${server.name}`, redact: true };
    const item = (id: string, kind: CorpusItem['kind'], payload: CorpusItem['payload']): CorpusItem => ({ ...base, id: `official-${server.name}-${id}`, kind, payload });
    const instructions = client.getInstructions();
    const items = [item('initialize', 'initialize', { serverInfo: info, ...(instructions === undefined ? {} : { instructions }) })];
    for (const tool of await allPages<{ name: string }>((cursor) => client.listTools({ cursor }), 'tools')) items.push(item(`tool-${tool.name}`, 'tools', [tool]));
    if (capabilities.prompts) {
      for (const prompt of await allPages<{ name: string }>((cursor) => client.listPrompts({ cursor }), 'prompts')) items.push(item(`prompt-${prompt.name}`, 'prompts', [prompt]));
    }
    if (capabilities.resources) {
      for (const resource of await allPages<{ uri: string }>((cursor) => client.listResources({ cursor }), 'resources')) items.push(item(`resource-${resource.uri}`, 'resources', [resource]));
      for (const template of await allPages<{ uriTemplate: string }>((cursor) => client.listResourceTemplates({ cursor }), 'resourceTemplates')) items.push(item(`template-${template.uriTemplate}`, 'resources', [template]));
    }
    return items;
  } finally {
    await client.close();
  }
}

/** Runs the official servers one after the other and returns their definitions as benign items. */
export async function captureOfficialServers(workDir: string): Promise<CorpusItem[]> {
  const items: CorpusItem[] = [];
  for (const server of OFFICIAL_SERVERS) items.push(...(await capture(server, workDir)));
  return items;
}
