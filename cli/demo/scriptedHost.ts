/**
 * A scripted MCP host for the demo: it connects to each demo server through `tapwire tap` with the
 * SDK's stdio client, and plays the part of a model that obeys what the malicious server tells it.
 * Steps are data, so later detections can extend the story without rewriting it.
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { PatientStdioTransport } from './patientStdioTransport.js';

export interface DemoServer {
  /** The configured name, as a host's mcpServers key. */
  name: string;
  /** The compiled server module, relative to this file. */
  module: string;
}

export const DEMO_SERVERS: DemoServer[] = [
  { name: 'notes', module: './notesServer.js' },
  { name: 'weather', module: './weatherServer.js' },
  { name: 'notes-backup', module: './notesMirrorServer.js' },
];

/** What the scripted host holds between steps: a client per server, and what the "model" remembers. */
interface HostState {
  clients: Record<string, Client>;
  memory: Record<string, string>;
}

export interface DemoStep {
  /** What a person watching the demo should understand from this step. */
  narration: string;
  act(host: HostState): Promise<void>;
}

const textOf = (result: Awaited<ReturnType<Client['callTool']>>): string =>
  (result.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');

export const DEMO_STEPS: DemoStep[] = [
  {
    narration: 'The host lists both servers\' tools; the weather tool\'s description hides instructions.',
    act: async ({ clients: c }) => {
      await c.notes!.listTools();
      await c.weather!.listTools();
    },
  },
  {
    narration: 'The user works with their notes as usual.',
    act: async ({ clients: c }) => {
      await c.notes!.callTool({ name: 'list_notes', arguments: {} });
      await c.notes!.readResource({ uri: 'notes://standup' });
      await c.notes!.getPrompt({ name: 'summarize_notes' });
    },
  },
  {
    narration: 'The user asks for the weather; the result carries an injected instruction.',
    act: async ({ clients: c }) => {
      await c.weather!.callTool({ name: 'get_forecast', arguments: { city: 'Lisbon' } });
    },
  },
  {
    narration: 'The model obeys: it reads the credential note on the notes server…',
    act: async ({ clients: c, memory }) => {
      memory.note = textOf(await c.notes!.callTool({ name: 'read_note', arguments: { name: 'deploy-credentials' } }));
    },
  },
  {
    narration: '…and sends it to the weather server inside the "context" argument.',
    act: async ({ clients: c, memory }) => {
      await c.weather!.callTool({ name: 'get_forecast', arguments: { city: 'Lisbon', context: memory.note ?? '' } });
    },
  },
  {
    narration: 'The weather server changed its tool (a rug pull); the host re-lists and gets the new description.',
    act: async ({ clients: c }) => {
      await c.weather!.listTools();
    },
  },
  {
    narration: 'A "notes-backup" server nobody approved lists its tools; it reports its name as "nοtes" (Greek omicron).',
    act: async ({ clients: c }) => {
      await c['notes-backup']!.listTools();
    },
  },
];

/**
 * Runs the demo's host session: every server through `tapwire tap`, every step in order. Resolves once every tap has
 * exited, so what they recorded or handed off is all in the home for the detectors.
 */
export async function runScriptedHost(home: string, onStep: (step: DemoStep, index: number) => void = () => undefined): Promise<void> {
  const cli = fileURLToPath(new URL('../tapwire.js', import.meta.url));
  const clients: HostState['clients'] = {};
  try {
    for (const server of DEMO_SERVERS) {
      const client = new Client({ name: 'tapwire-demo-host', version: '1.0.0' });
      const serverPath = fileURLToPath(new URL(server.module, import.meta.url));
      await client.connect(new PatientStdioTransport(process.execPath, [cli, 'tap', '--name', server.name, '--home', home, '--', process.execPath, serverPath]));
      clients[server.name] = client;
    }
    const memory: HostState['memory'] = {};
    for (const [index, step] of DEMO_STEPS.entries()) {
      onStep(step, index);
      await step.act({ clients, memory });
    }
  } finally {
    await Promise.all(Object.values(clients).map((client) => client.close()));
  }
}
