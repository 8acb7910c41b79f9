import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InventoryFileError, loadInventoryFile, parseInventory } from '../../detectors/inventory/inventoryFile.js';
import { lookalikeOf } from '../../detectors/inventory/nameSimilarity.js';
import { ServerIdentityDetector } from '../../detectors/inventory/serverIdentityDetector.js';
import { runFresh } from './detectorHarness.js';
import { scriptEvents, type ScriptedSession } from './sessionScript.js';

const INVENTORY = `# approved servers
servers:
  - name: notes
    command: "node /opt/mcp/notes-server.js"
    reported_name: notes
    version: "1.*"
  - name: docs
    url: "https://mcp.example.com/*"
`;

const session = (id: string, hour: number, more: Partial<ScriptedSession>): ScriptedSession => ({ session: id, at: `2025-06-01T${String(hour).padStart(2, '0')}:00:00Z`, server: 'notes', command: 'node /opt/mcp/notes-server.js', serverInfo: { name: 'notes', version: '1.4.0' }, steps: [{ tools: [] }], ...more });

function judge(sessions: ScriptedSession[], inventoryText?: string): string[] {
  const events = scriptEvents('identity.ndjson', sessions);
  const inventory = inventoryText === undefined ? undefined : parseInventory('inventory.yml', inventoryText);
  return runFresh([new ServerIdentityDetector({ inventory })], events).map((a) => `${a.rule.id.replace('tapwire.server-identity.', '')}: ${a.message}`);
}

describe('unknown and impersonating servers, against an inventory', () => {
  it('says nothing about an approved server beyond its first host', () => {
    expect(judge([session('a', 10, {}), session('b', 11, {})], INVENTORY)).toEqual([expect.stringMatching(/^new-host: MCP server "notes" appeared on host unknown for the first time/)]);
  });

  it('flags a server missing from the inventory, once', () => {
    const found = judge([session('a', 10, { server: 'calendar', command: 'npx calendar-mcp', serverInfo: { name: 'calendar' } }), session('b', 11, { server: 'calendar', command: 'npx calendar-mcp', serverInfo: { name: 'calendar' } })], INVENTORY);
    expect(found).toEqual(['unknown-server: MCP server "calendar" on host unknown is not in the approved inventory inventory.yml: stdio:npx calendar-mcp']);
  });

  it('flags a known name run from another command, and a version the entry does not allow', () => {
    expect(judge([session('a', 10, { command: 'python /tmp/notes.py' })], INVENTORY)).toEqual([
      'known-name-other-command: MCP server "notes" runs as stdio:python /tmp/notes.py, but the inventory (inventory.yml:3) approves "notes" only as command "node /opt/mcp/notes-server.js"',
    ]);
    const found = judge([session('a', 10, { serverInfo: { name: 'notes', version: '2.0.0' } })], INVENTORY);
    expect(found).toContain('version-mismatch: MCP server "notes" reports version 2.0.0; the inventory (inventory.yml:3) allows "1.*"');
  });

  it('flags a server name that imitates an approved one with confusable characters', () => {
    const found = judge([session('a', 10, { server: 'notes-sync', command: 'node sync.js', serverInfo: { name: 'n\u03bftes' } })], INVENTORY);
    expect(found).toEqual([
      expect.stringMatching(/^unknown-server: MCP server "notes-sync" \(reports as "nοtes"\)/),
      'lookalike-name: MCP server name "nοtes" imitates the known name "notes" (confusable characters: U+03BF) of the inventory\'s "notes"; this server is stdio:node sync.js',
    ]);
  });

  it('accepts a version change the inventory approves, and flags one it does not', () => {
    expect(judge([session('a', 10, {}), session('b', 11, { serverInfo: { name: 'notes', version: '1.5.0' } })], INVENTORY).filter((f) => f.startsWith('version'))).toEqual([]);
    expect(judge([session('a', 10, { server: 'x', command: 'x' }), session('b', 11, { server: 'x', command: 'x', serverInfo: { name: 'x', version: '9.0.0' } })]).filter((f) => f.startsWith('version'))).toEqual([
      'version-changed: MCP server "x" changed its reported version from 1.4.0 to 9.0.0',
    ]);
  });
});

describe('servers without an inventory', () => {
  it('reports first sight on the fleet once, and a server that then appears on another host', () => {
    const found = judge([session('a', 10, {}), session('b', 11, {}), session('c', 12, { host: 'laptop-2' })]);
    expect(found.map((f) => f.split(':')[0])).toEqual(['first-sight', 'new-host']);
    expect(found[1]).toContain('appeared on host laptop-2 for the first time');
  });

  it('flags a newcomer one edit away from a server seen before, but not numbered siblings', () => {
    const fs = (id: string, hour: number, name: string, command: string): ScriptedSession => session(id, hour, { server: name, command, serverInfo: { name } });
    const found = judge([fs('a', 10, 'filesystem', 'npx server-filesystem'), fs('b', 11, 'filesystern', 'npx evil-fs')]);
    expect(found.filter((f) => f.startsWith('lookalike'))).toEqual([expect.stringMatching(/^lookalike-name: MCP server name "filesystern" imitates the known name "filesystem" \(confusable characters\)/)]);
    expect(judge([fs('a', 10, 'github-1', 'npx gh --account 1'), fs('b', 11, 'github-2', 'npx gh --account 2')]).filter((f) => f.startsWith('lookalike'))).toEqual([]);
  });

  it('judges names by confusable skeleton and one edit', () => {
    expect(lookalikeOf('n0tes', 'notes')).toBe('confusable');
    expect(lookalikeOf('rnemory', 'memory')).toBe('confusable');
    expect(lookalikeOf('NOTES', 'notes')).toBeUndefined();
    expect(lookalikeOf('slackk', 'slack')).toBe('edit-distance');
    expect(lookalikeOf('gitlab', 'github')).toBeUndefined();
    expect(lookalikeOf('server-1', 'server-2')).toBeUndefined();
  });
});

describe('inventory files', () => {
  const problems = (text: string): string => {
    try {
      parseInventory('inv.yml', text);
    } catch (error) {
      expect(error).toBeInstanceOf(InventoryFileError);
      return (error as Error).message;
    }
    throw new Error('the inventory was accepted');
  };

  it('lists every problem as FILE:LINE with the field', () => {
    const text = 'servers:\n  - name: notes\n    comand: "node notes.js"\n  - name: web\n    url: "https://x/*"\n    tools:\n      fetch: abc123\n  - command: "x"\n';
    expect(problems(text).split('\n')).toEqual([
      "inv.yml:2: field 'servers[0]': needs a command pattern (stdio servers) or a url pattern (remote servers)",
      "inv.yml:3: field 'servers[0].comand': unknown field (an entry has name, command, url, reported_name, version, tools)",
      "inv.yml:7: field 'servers[1].tools.fetch': must be a SHA-256 tool hash: 64 lower-case hex digits",
      "inv.yml:8: field 'servers[2].name': required, but missing",
    ]);
  });

  it('reports YAML syntax errors and a wrong top level by line', () => {
    expect(problems('servers:\n  - name: notes\n    name: again\n    command: x\n')).toMatch(/^inv\.yml:3: YAML: Map keys must be unique/);
    expect(problems('servers: notes\n')).toBe("inv.yml:1: field 'servers': must be array");
    expect(problems('- name: x\n')).toBe("inv.yml:1: must be a mapping with a 'servers' list");
  });

  it('reads a file from disk and names it when it is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapwire-inventory-'));
    try {
      const file = join(dir, 'inventory.yml');
      writeFileSync(file, INVENTORY);
      const inventory = loadInventoryFile(file);
      expect(inventory.matching('stdio:node /opt/mcp/notes-server.js').map((e) => e.name)).toEqual(['notes']);
      expect(inventory.matching('https://mcp.example.com/v1/mcp').map((e) => e.name)).toEqual(['docs']);
      expect(inventory.matching('stdio:node /tmp/notes-server.js')).toEqual([]);
      expect(() => loadInventoryFile(join(dir, 'missing.yml'))).toThrow(/missing\.yml:1: cannot read the inventory: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
