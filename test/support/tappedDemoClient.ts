import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { REPO_ROOT, requireBuiltCli } from './tapwireCli.js';

/** An SDK client on one of the demo's servers (cli/demo/<module>) behind a real `tapwire tap --config` process. */
export async function tappedDemoClient(options: { home: string; config: string; name: string; module: string; stderr: string[]; clientName: string }): Promise<Client> {
  const client = new Client({ name: options.clientName, version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [requireBuiltCli(), 'tap', '--name', options.name, '--home', options.home, '--config', options.config, '--', process.execPath, join(REPO_ROOT, 'dist', 'cli', 'demo', options.module)],
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => options.stderr.push(chunk.toString()));
  await client.connect(transport);
  return client;
}
