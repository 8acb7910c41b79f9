import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import { checkEvent } from '../../pipeline/schemaValidator.js';
import { busEvents, processGone, REPO_ROOT, tapArgv, tempHome } from '../support/tapwireCli.js';

const MEMORY_SERVER = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js');

/** A knowledge-graph session against the official memory server; returns every result the client saw. */
async function memorySession(command: string, args: string[], memoryFile: string): Promise<unknown[]> {
  const client = new Client({ name: 'official-server-test', version: '1.0.0' });
  const transport = new StdioClientTransport({ command, args, env: { MEMORY_FILE_PATH: memoryFile }, stderr: 'pipe' });
  await client.connect(transport);
  const pid = transport.pid;
  const results: unknown[] = [];
  results.push(await client.listTools());
  results.push(await client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote the first program'] }, { name: 'Analytical Engine', entityType: 'machine', observations: [] }] } }));
  results.push(await client.callTool({ name: 'create_relations', arguments: { relations: [{ from: 'Ada', to: 'Analytical Engine', relationType: 'programmed' }] } }));
  results.push(await client.callTool({ name: 'add_observations', arguments: { observations: [{ entityName: 'Ada', contents: ['born 1815'] }] } }));
  results.push(await client.callTool({ name: 'search_nodes', arguments: { query: 'Ada' } }));
  results.push(await client.callTool({ name: 'read_graph', arguments: {} }));
  results.push(await client.callTool({ name: 'no_such_tool', arguments: {} }).catch((error: Error) => error.message));
  await client.close();
  // The SDK's close does not wait for the process to exit: the tap records (or hands off) the session as it exits.
  await processGone(pid);
  return results;
}

describe('an official MCP server behind the tap', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('@modelcontextprotocol/server-memory answers through the tap exactly as it does directly', async () => {
    const direct = await memorySession(process.execPath, [MEMORY_SERVER], join(home, 'direct.jsonl'));
    const tapped = await memorySession(process.execPath, tapArgv(home, 'memory', process.execPath, [MEMORY_SERVER]), join(home, 'tapped.jsonl'));
    expect(tapped).toEqual(direct);

    const events = await busEvents(home);
    for (const event of events) expect(checkEvent(event).errors).toEqual([]);
    const listing = events.find((e) => e.event.action === 'tools/list' && e.mcp.message?.kind === 'response')!;
    expect(listing.mcp.tools!.map((t) => t.name)).toEqual(expect.arrayContaining(['create_entities', 'read_graph', 'search_nodes']));
    expect(listing.mcp.server.reported_name).toBe('memory-server');
    const calls = events.filter((e) => e.event.action === 'tools/call' && e.mcp.message?.kind === 'request').map((e) => e.gen_ai?.tool?.name);
    expect(calls).toEqual(['create_entities', 'create_relations', 'add_observations', 'search_nodes', 'read_graph', 'no_such_tool']);
    const results = events.filter((e) => e.event.action === 'tools/call' && e.mcp.message?.kind !== 'request');
    expect(results.map((e) => e.gen_ai?.tool?.name)).toEqual(calls);
  });
});
