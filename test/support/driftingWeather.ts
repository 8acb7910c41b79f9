/** The drifting weather server (test/detectors/fixtures) behind a real tap, and a Sigma rule that flags its rug pull. */
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { PatientStdioTransport } from '../../cli/demo/patientStdioTransport.js';
import type { ToolDefinition } from '../../pipeline/toolHash.js';
import { tapArgv } from './tapwireCli.js';

export const DRIFTING_SERVER = fileURLToPath(new URL('../detectors/fixtures/driftingServer.mjs', import.meta.url));

/** A Sigma rule (with id `id`) on the <IMPORTANT> block the poisoned stage adds to the tool description. */
export function pseudoTagRule(id: string): string {
  return `title: Pseudo-tag in a tool description
id: ${id}
level: high
tags: [tapwire.category.tool_poisoning]
logsource: {product: mcp, category: tool_list}
detection:
    sel:
        mcp.text.descriptions|contains: '<IMPORTANT>'
    condition: sel
`;
}

/** One host session through a real tap: lists the tools `lists` times; returns the definitions the client saw. */
export async function weatherSession(home: string, stage: 'benign' | 'poisoned', lists = 1): Promise<ToolDefinition[]> {
  const client = new Client({ name: 'drifting-weather-test', version: '1.0.0' });
  await client.connect(new PatientStdioTransport(process.execPath, tapArgv(home, 'weather', process.execPath, [DRIFTING_SERVER]), { env: { ...(process.env as Record<string, string>), DRIFT_STAGE: stage }, onStderr: () => undefined }));
  let tools: ToolDefinition[] = [];
  for (let i = 0; i < lists; i++) tools = (await client.listTools()).tools as ToolDefinition[];
  await client.close();
  return tools;
}
