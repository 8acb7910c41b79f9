/**
 * `tapwire inventory export`: the servers and tool definitions observed so far, written as an inventory file (the
 * format `--inventory FILE` reads) with full SHA-256 pins, for review and commit. Where a tool was seen with more than
 * one definition the first one seen is pinned and the others are named in a comment, so a rug pull is not approved by
 * exporting after it.
 */
import { writeFileSync } from 'node:fs';
import { Document } from 'yaml';
import { loadInventoryFile, parseInventory } from '../../detectors/inventory/inventoryFile.js';
import type { ServerSummary, ToolSummary } from '../../pipeline/store.js';
import { withConfiguredStore, STORE_CHOICE_OPTIONS, storeChoiceHelp } from '../configuredStore.js';
import { shortTime } from '../commandOutput.js';
import { runSingleSubcommand } from '../singleSubcommand.js';
import { parseCommand } from '../usage.js';

const spec = {
  name: 'inventory export',
  summary:
    'Writes an inventory of the MCP servers observed (identity, reported name, version) with the SHA-256 pin of each\n' +
    "tool's definition, in the format 'tapwire detect|up|replay --inventory FILE' reads. Review it, then commit it.",
  usage: 'tapwire inventory export [--out FILE] [--server NAME] [--home DIR]',
  details: `Options:
  --out FILE      write here (default: stdout); the file is read back and checked before the command succeeds
  --server NAME   only this server (by name or identity)
  --home DIR      Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
${storeChoiceHelp(18)}`,
  options: { out: { type: 'string' }, server: { type: 'string' }, home: { type: 'string' }, ...STORE_CHOICE_OPTIONS },
} as const;

const STDIO_PREFIX = 'stdio:';

/** A literal for the inventory's wildcard patterns: *, ? and \ escaped. */
function literalPattern(text: string): string {
  return text.replace(/[*?\\]/g, '\\$&');
}

interface ExportedEntry {
  entry: Record<string, unknown>;
  comments: string[];
}

function exportedEntry(server: ServerSummary, tools: readonly ToolSummary[]): ExportedEntry {
  const entry: Record<string, unknown> = { name: server.name };
  if (server.id.startsWith(STDIO_PREFIX)) entry.command = literalPattern(server.id.slice(STDIO_PREFIX.length));
  else entry.url = literalPattern(server.id);
  if (server.reportedName !== undefined) entry.reported_name = server.reportedName;
  if (server.version !== undefined) entry.version = literalPattern(server.version);
  const comments = [`seen ${shortTime(server.firstSeen)} – ${shortTime(server.lastSeen)} on ${server.hosts.join(', ') || 'unknown hosts'}, ${server.sessions} sessions`];
  const byName = new Map<string, ToolSummary[]>();
  for (const tool of tools) byName.set(tool.name, [...(byName.get(tool.name) ?? []), tool]);
  const pins: Record<string, string> = {};
  for (const [name, versions] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const [first, ...later] = [...versions].sort((a, b) => a.firstSeen - b.firstSeen);
    pins[name] = first!.hash;
    if (later.length > 0) comments.push(`REVIEW ${name}: ${versions.length} definitions seen; pinned the first (${shortTime(first!.firstSeen)}), later: ${later.map((t) => `${t.hash} (${shortTime(t.firstSeen)})`).join(', ')}`);
  }
  if (Object.keys(pins).length > 0) entry.tools = pins;
  return { entry, comments };
}

/** The inventory file text. */
function inventoryText(entries: readonly ExportedEntry[], source: string): string {
  const doc = new Document({ servers: entries.map((e) => e.entry) });
  doc.commentBefore = ` Approved MCP servers, exported by 'tapwire inventory export' from ${source} on ${new Date().toISOString()}.\n Review every entry (and each REVIEW note) before committing; use it with --inventory FILE.`;
  const items = (doc.get('servers', true) as { items: { commentBefore?: string }[] }).items;
  entries.forEach((e, i) => (items[i]!.commentBefore = e.comments.map((c) => ` ${c}`).join('\n')));
  return doc.toString({ lineWidth: 0 });
}

async function exportInventory(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  return withConfiguredStore(o, async ({ store }) => {
    const servers = (await store.servers({})).filter((s) => o.server === undefined || s.name === o.server || s.id === o.server);
    if (servers.length === 0) throw new Error(o.server === undefined ? 'no MCP server observed yet: nothing to export' : `no server '${o.server}' observed`);
    const tools = await store.tools({});
    const text = inventoryText(servers.map((s) => exportedEntry(s, tools.filter((t) => t.serverId === s.id))), o.home ?? 'the Tapwire home');
    if (o.out === undefined) {
      parseInventory('(exported inventory)', text);
      process.stdout.write(text);
      return;
    }
    writeFileSync(o.out, text);
    const inventory = loadInventoryFile(o.out);
    process.stderr.write(`wrote ${o.out}: ${inventory.entries.length} servers, ${inventory.entries.reduce((n, e) => n + Object.keys(e.tools ?? {}).length, 0)} tool pins\n`);
  });
}

/** Entry point of `tapwire inventory`. */
export async function run(argv: string[]): Promise<number> {
  return runSingleSubcommand(argv, 'export', spec.usage, exportInventory);
}
