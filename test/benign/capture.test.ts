// The benign capture script run for real against official servers from devDependencies; what it records is checked
// against what those servers advertise to a plain SDK client and against the files it says it read.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Prompt, Resource, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempHome } from '../support/tapwireCli.js';

const CAPTURE = join(REPO_ROOT, 'scripts', 'benign', 'capture.mjs');
const NODE_MODULES = join(REPO_ROOT, 'node_modules');
const MEMORY = '@modelcontextprotocol/server-memory';
const EVERYTHING = '@modelcontextprotocol/server-everything';
const FILESYSTEM = '@modelcontextprotocol/server-filesystem';
const RECORD_KEYS = ['attack', 'field', 'id', 'label', 'license', 'meta', 'server', 'source', 'split', 'text', 'tool_name'];

interface BenignRecord {
  id: string;
  source: string;
  license: string;
  field: string;
  label: string;
  attack: string;
  tool_name: string | null;
  server: string;
  text: string;
  split: null;
  meta: { package: string; version: string; kind: string; [key: string]: unknown };
}

interface Run {
  code: number | null;
  stderr: string;
  servers: BenignRecord[];
  results: BenignRecord[];
  report: { packages: Record<string, { status: string; reason?: string; stderr?: string; records?: Record<string, number> }> };
  serversText: string;
}

// The capture's own deadlines are safety bounds against a hung server, not expectations: generous so that a
// loaded machine only makes the test slower.
const BOUNDS = ['--timeout', '180000', '--scenario-timeout', '400000'];
const TEST_BOUND_MS = 900_000;

function runCapture(cache: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CAPTURE, '--cache', cache, '--node-modules', NODE_MODULES, ...BOUNDS, ...args],
      { maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
        const out = join(cache, 'benign');
        const lines = (file: string) => readFileSync(join(out, file), 'utf8').split('\n').filter(Boolean)
          .map((line) => JSON.parse(line) as BenignRecord);
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stderr,
          servers: lines('servers.jsonl'),
          results: lines('results.jsonl'),
          report: JSON.parse(readFileSync(join(out, 'capture-report.json'), 'utf8')),
          serversText: readFileSync(join(out, 'servers.jsonl'), 'utf8'),
        });
      });
  });
}

function packageJson(name: string): { version: string; license: string; bin: string | Record<string, string> } {
  return JSON.parse(readFileSync(join(NODE_MODULES, ...name.split('/'), 'package.json'), 'utf8'));
}

interface Advertised { instructions?: string; tools: Tool[]; prompts: Prompt[]; resources: Resource[] }

/** What the server advertises to an ordinary SDK client, every page of every advertised list. */
async function advertised(name: string, home: string): Promise<Advertised> {
  const pkg = packageJson(name);
  const bin = typeof pkg.bin === 'string' ? pkg.bin : Object.values(pkg.bin)[0]!;
  const client = new Client({ name: 'benign-capture-test', version: '1.0.0' });
  const bound = { timeout: TEST_BOUND_MS };
  await client.connect(new StdioClientTransport({
    command: process.execPath, args: [join(NODE_MODULES, ...name.split('/'), bin)],
    env: { HOME: home, MEMORY_FILE_PATH: join(home, 'direct-memory.jsonl') }, stderr: 'pipe',
  }), bound);
  const caps = client.getServerCapabilities() ?? {};
  const out: Advertised = { instructions: client.getInstructions(), tools: [], prompts: [], resources: [] };
  for (let cursor: string | undefined, first = true; caps.tools && (first || cursor); first = false) {
    const page = await client.listTools(cursor ? { cursor } : {}, bound);
    out.tools.push(...page.tools);
    cursor = page.nextCursor;
  }
  for (let cursor: string | undefined, first = true; caps.prompts && (first || cursor); first = false) {
    const page = await client.listPrompts(cursor ? { cursor } : {}, bound);
    out.prompts.push(...page.prompts);
    cursor = page.nextCursor;
  }
  for (let cursor: string | undefined, first = true; caps.resources && (first || cursor); first = false) {
    const page = await client.listResources(cursor ? { cursor } : {}, bound);
    out.resources.push(...page.resources);
    cursor = page.nextCursor;
  }
  await client.close();
  return out;
}

const sorted = <T>(items: T[]) => [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

function ofKind(records: BenignRecord[], name: string, kind: string) {
  return records.filter((r) => r.server === name && r.meta.kind === kind);
}

describe('benign capture of official MCP servers', () => {
  const { home, remove } = tempHome('tapwire-benign-');
  let run: Run;
  const servers: Record<string, Advertised> = {};

  beforeAll(async () => {
    run = await runCapture(join(home, 'cache-a'), ['--only', `${MEMORY},${EVERYTHING}`]);
    servers[MEMORY] = await advertised(MEMORY, home);
    servers[EVERYTHING] = await advertised(EVERYTHING, home);
  }, TEST_BOUND_MS);
  afterAll(remove);

  it('exits cleanly and reports both servers captured with the counts it wrote', () => {
    expect(run.stderr).not.toMatch(/servers\.json:\d+/);
    expect(run.code).toBe(0);
    for (const name of [MEMORY, EVERYTHING]) {
      const row = run.report.packages[name]!;
      expect(row.status).toBe('captured');
      const written: Record<string, number> = {};
      for (const r of run.servers.filter((s) => s.server === name)) written[r.meta.kind] = (written[r.meta.kind] ?? 0) + 1;
      expect(row.records).toEqual(written);
    }
  });

  it('writes records in the shared dataset format, benign, with the package version and declared license', () => {
    for (const r of [...run.servers, ...run.results]) {
      expect(Object.keys(r).sort()).toEqual(RECORD_KEYS);
      expect([r.label, r.attack, r.split]).toEqual(['benign', 'none', null]);
      expect(r.text.trim()).not.toBe('');
    }
    const ids = [...run.servers, ...run.results].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of run.servers) {
      expect([r.source, r.field]).toEqual(['tapwire-capture/servers', 'tool_description']);
      const pkg = packageJson(r.server);
      expect([r.meta.package, r.meta.version, r.license]).toEqual([r.server, pkg.version, pkg.license]);
    }
    for (const r of run.results) expect([r.source, r.field]).toEqual(['tapwire-capture/results', 'tool_result']);
  });

  it('records every tool description and top-level parameter description the servers advertise', () => {
    for (const name of [MEMORY, EVERYTHING]) {
      const tools = servers[name]!.tools;
      expect(tools.length).toBeGreaterThan(0);
      expect(sorted(ofKind(run.servers, name, 'tool_description').map((r) => [r.tool_name, r.text])))
        .toEqual(sorted(tools.filter((t) => t.description).map((t) => [t.name, t.description])));
      const expectedParams = tools.flatMap((t) => Object.entries(t.inputSchema.properties ?? {})
        .filter(([, p]) => typeof (p as { description?: unknown }).description === 'string')
        .map(([prop, p]) => [t.name, prop, (p as { description: string }).description]));
      expect(expectedParams.length).toBeGreaterThan(0);
      const recordedParams = ofKind(run.servers, name, 'schema_property')
        .filter((r) => r.meta.schema === 'input' && r.meta.key === 'description' && /^\/properties\/[^/]+$/.test(String(r.meta.path)))
        .map((r) => [r.tool_name, r.meta.property, r.text]);
      expect(sorted(recordedParams)).toEqual(sorted(expectedParams));
    }
  });

  it('records the server instructions, prompts, prompt arguments and resources the everything server advertises', () => {
    const direct = servers[EVERYTHING]!;
    expect(direct.instructions).toBeTruthy();
    expect(ofKind(run.servers, EVERYTHING, 'server_instructions').map((r) => r.text)).toEqual([direct.instructions]);
    expect(sorted(ofKind(run.servers, EVERYTHING, 'prompt_description').map((r) => [r.tool_name, r.text])))
      .toEqual(sorted(direct.prompts.filter((p) => p.description).map((p) => [p.name, p.description])));
    expect(sorted(ofKind(run.servers, EVERYTHING, 'prompt_argument').map((r) => [r.tool_name, r.meta.argument, r.text])))
      .toEqual(sorted(direct.prompts.flatMap((p) => (p.arguments ?? []).filter((a) => a.description).map((a) => [p.name, a.name, a.description]))));
    expect(direct.resources.length).toBeGreaterThan(0);
    expect(sorted(ofKind(run.servers, EVERYTHING, 'resource_description').map((r) => [r.meta.uri, r.text])))
      .toEqual(sorted(direct.resources.filter((r) => r.description).map((r) => [r.uri, r.description])));
  });

  it('keeps real outputs of the servers own tools, and documentation text that is really in the package files', () => {
    const calls = run.results.filter((r) => r.meta.origin === 'server-call' && r.meta.kind === 'tool_result');
    for (const name of [MEMORY, EVERYTHING]) {
      const called = calls.filter((r) => r.server === name);
      expect(called.length).toBeGreaterThan(0);
      const names = servers[name]!.tools.map((t) => t.name);
      for (const r of called) expect(names).toContain(r.tool_name);
    }
    const graph = calls.find((r) => r.server === MEMORY && r.tool_name === 'read_graph')!;
    const entities = (JSON.parse(graph.text) as { entities: { name: string }[] }).entities;
    expect(entities.length).toBeGreaterThan(0);
    // The graph was built from package metadata: each entity is a package installed in node_modules.
    for (const e of entities) expect(existsSync(join(NODE_MODULES, ...e.name.split('/'), 'package.json'))).toBe(true);

    const docs = run.results.filter((r) => r.meta.origin === 'package-file');
    expect(docs.length).toBeGreaterThan(500);
    let checked = 0;
    for (const r of docs) {
      const dir = join(NODE_MODULES, ...r.meta.package.split('/'));
      if (!existsSync(join(dir, 'package.json')) || packageJson(r.meta.package).version !== r.meta.version) continue;
      expect(readFileSync(join(dir, String(r.meta.file)), 'utf8').replace(/\r\n/g, '\n')).toContain(r.text);
      checked++;
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('writes the same documentation records and result ids when run again', async () => {
    const again = await runCapture(join(home, 'cache-b'), ['--only', `${MEMORY},${EVERYTHING}`]);
    expect(again.serversText).toBe(run.serversText);
    expect(again.results.map((r) => r.id)).toEqual(run.results.map((r) => r.id));
  }, TEST_BOUND_MS);

  it('reports a bad manifest entry with file and line, and a server that exits at startup with its reason', async () => {
    const manifest = join(home, 'manifest.json');
    const version = packageJson(MEMORY).version;
    writeFileSync(manifest, `{
  "servers": [
    { "name": "${MEMORY}", "version": "${version}" },
    { "name": "bad-entry",
      "version": "^1.0.0" },
    { "name": "${FILESYSTEM}", "version": "${packageJson(FILESYSTEM).version}", "args": ["{work}/does-not-exist"] }
  ]
}
`);
    const failed = await runCapture(join(home, 'cache-c'), ['--manifest', manifest]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`${manifest}:4: servers[1].version`);
    expect(failed.report.packages[MEMORY]!.status).toBe('captured');
    const fs = failed.report.packages[FILESYSTEM]!;
    expect(fs.status).toBe('list_failed');
    expect(fs.reason).toBeTruthy();
    expect(fs.stderr).toContain('does-not-exist');
    expect(failed.servers.filter((r) => r.server === FILESYSTEM)).toEqual([]);
  }, TEST_BOUND_MS);
});
