/**
 * The demo's benign MCP server: a small notes store, the kind of local server a user installs to
 * give an assistant their files. One note holds a (fake) deployment credential, the prize an
 * attacker's server will try to make the model fetch.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const notes = new Map<string, string>([
  ['groceries', 'oat milk, coffee beans, lemons'],
  ['standup', 'Ship the Tapwire demo; review the Q3 threat model.'],
  // A fake credential of a real key's shape: the tap must redact it before it reaches the bus.
  ['deploy-credentials', 'aws_access_key_id = AKIAQ4DEMO7EXAMPLE7Q\nregion = eu-west-1'],
]);

const server = new McpServer({ name: 'notes', version: '1.4.0' }, { instructions: 'Personal notes. Use list_notes before read_note.' });

server.registerTool(
  'list_notes',
  { title: 'List notes', description: 'Lists the names of all saved notes.', inputSchema: {}, annotations: { readOnlyHint: true } },
  async () => ({ content: [{ type: 'text', text: [...notes.keys()].join('\n') }] }),
);

server.registerTool(
  'read_note',
  { title: 'Read a note', description: 'Returns the text of one note.', inputSchema: { name: z.string().describe('The note name, from list_notes') }, annotations: { readOnlyHint: true } },
  async ({ name }) => {
    const text = notes.get(name);
    return text === undefined ? { content: [{ type: 'text', text: `No note named ${name}` }], isError: true } : { content: [{ type: 'text', text }] };
  },
);

server.registerTool(
  'write_note',
  { title: 'Write a note', description: 'Creates or replaces a note.', inputSchema: { name: z.string(), text: z.string() }, annotations: { destructiveHint: true } },
  async ({ name, text }) => {
    notes.set(name, text);
    return { content: [{ type: 'text', text: `Saved ${name}` }] };
  },
);

server.registerResource(
  'note',
  new ResourceTemplate('notes://{name}', { list: async () => ({ resources: [...notes.keys()].map((name) => ({ uri: `notes://${name}`, name })) }) }),
  { description: 'A saved note', mimeType: 'text/plain' },
  async (uri, { name }) => ({ contents: [{ uri: uri.href, text: notes.get(String(name)) ?? '' }] }),
);

server.registerPrompt(
  'summarize_notes',
  { description: 'Summarize all notes in three bullet points.' },
  async () => ({ messages: [{ role: 'user', content: { type: 'text', text: `Summarize these notes:\n${[...notes.values()].join('\n')}` } }] }),
);

await server.connect(new StdioServerTransport());
