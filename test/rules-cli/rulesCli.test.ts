/** `tapwire rules lint | list | export` run as real child processes of the built CLI, on rule files in a temp dir. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../support/tapwireCli.js';
import { kibanaImportProblems } from './kibanaImportFormat.js';
import { completeRule } from './lintFixtures.js';

let temp: ReturnType<typeof tempHome>;
let clean: string;
let broken: string;

beforeAll(() => {
  temp = tempHome('tapwire-rules-cli-');
  clean = join(temp.home, 'clean');
  broken = join(temp.home, 'broken');
  mkdirSync(join(clean, 'calls'), { recursive: true });
  mkdirSync(broken);
  writeFileSync(join(clean, 'calls', 'read.yml'), completeRule());
  writeFileSync(join(clean, 'calls', 'read.tests.yml'), 'tests: []\n');
  writeFileSync(
    join(clean, 'regex.yml'),
    completeRule({ id: 'id: 2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f', title: 'title: Shell pipe', level: 'level: high' }, ['    sel:', "        gen_ai.tool.call.arguments.command|re: '\\|\\s*sh'", '    condition: sel']),
  );
  writeFileSync(join(broken, 'a.yml'), completeRule({ id: 'id: not-a-uuid' }, ['    sel:', '        gen_ai.tool.name|nope: x', '    unused:', '        gen_ai.tool.name: y', '    condition: sel']));
});
afterAll(() => temp.remove());

describe('tapwire rules lint', () => {
  it('exits 0 on clean rules and says so', async () => {
    const result = await runCli(['rules', 'lint', clean]);
    expect(result.stderr).toBe('');
    expect(result.stdout.toString()).toBe('2 rule files: 0 errors, 0 warnings\n');
    expect(result.code).toBe(0);
  });

  it('prints FILE:LINE: severity: message and exits 1 on errors', async () => {
    const result = await runCli(['rules', 'lint', broken]);
    const file = join(broken, 'a.yml');
    expect(result.stdout.toString().split('\n')).toEqual([
      `${file}:2: error: id 'not-a-uuid' is not a UUID`,
      expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:14: error: field 'gen_ai\\.tool\\.name': unknown modifier 'nope'`)),
      `${file}:15: warning: search identifier 'unused' is not used by the condition`,
      '1 rule files: 2 errors, 1 warnings',
      '',
    ]);
    expect(result.code).toBe(1);
  });

  it('lints the shipped pack without errors', async () => {
    const result = await runCli(['rules', 'lint']);
    expect(result.stdout.toString().split('\n').filter((l) => l.includes(': error: '))).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('refuses a DIR that is not a directory', async () => {
    const result = await runCli(['rules', 'lint', join(temp.home, 'missing')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing is not a directory/);
  });
});

describe('tapwire rules list', () => {
  it('lists id, level, category, log source, title and file', async () => {
    const result = await runCli(['rules', 'list', clean]);
    const rows = result.stdout.toString().trimEnd().split('\n');
    expect(rows[0]?.split(/\s{2,}/)).toEqual(['id', 'level', 'category', 'logsource', 'title', 'file']);
    expect(rows.slice(2).map((r) => r.split(/\s{2,}/))).toEqual([
      ['6b1e4f6a-3c2d-4b5e-9f8a-7d6c5b4a3e2f', 'low', 'anomalous_tool_use', 'tool_call', 'Reads a file', `${join(clean, 'calls', 'read.yml')}:1`],
      ['2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f', 'high', 'anomalous_tool_use', 'tool_call', 'Shell pipe', `${join(clean, 'regex.yml')}:1`],
    ]);
  });

  it('writes NDJSON with --json, and counts rejected rules on stderr', async () => {
    const result = await runCli(['rules', 'list', broken, '--json']);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr).toBe("1 rule problems left rules out; run 'tapwire rules lint' for details\n");
    const listed = await runCli(['rules', 'list', clean, '--json']);
    const first = JSON.parse(listed.stdout.toString().split('\n')[0] as string) as Record<string, unknown>;
    expect(first).toEqual({ id: '6b1e4f6a-3c2d-4b5e-9f8a-7d6c5b4a3e2f', level: 'low', category: 'anomalous_tool_use', logsource: 'tool_call', title: 'Reads a file', file: join(clean, 'calls', 'read.yml'), line: 1, alerts: true });
  });
});

describe('tapwire rules export', () => {
  it('writes importable NDJSON to --out and lists skipped rules with the reason on stderr', async () => {
    const out = join(temp.home, 'kibana.ndjson');
    const result = await runCli(['rules', 'export', '--format', 'kibana', clean, '--out', out, '--index', 'logs-mcp.messages-prod']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('');
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(kibanaImportProblems(lines[0] as string)).toEqual([]);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ rule_id: '6b1e4f6a-3c2d-4b5e-9f8a-7d6c5b4a3e2f', index: ['logs-mcp.messages-prod'] });
    expect(result.stderr.split('\n')).toEqual([
      `skipped ${join(clean, 'regex.yml')}:14: 2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f (Shell pipe): 'gen_ai.tool.call.arguments.command' is a flattened sub-field, where Elasticsearch runs only term, prefix and exists queries; '\\|\\s*sh' needs a regular expression`,
      `1 rules exported to ${out}, 1 skipped, 0 rejected`,
      '',
    ]);
  });

  it('with --allow-widened, exports a rule refused for its automaton as a tagged superset and lists it as widened', async () => {
    const dir = join(temp.home, 'widenable');
    mkdirSync(dir);
    const file = join(dir, 'climb.yml');
    writeFileSync(file, completeRule({ id: 'id: 3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a', title: 'title: Climb' }, ['    sel:', "        gen_ai.tool.call.arguments|re: '^[^\\n]{0,512}(?:\\.\\.[/\\\\]){3,}'", '    condition: sel']));
    const exact = await runCli(['rules', 'export', '--format', 'kibana', dir]);
    expect(exact.stdout.toString()).toBe('');
    expect(exact.stderr).toMatch(/^skipped .*deterministic automaton of more than 2000 states[^\n]*\n0 rules exported, 1 skipped, 0 rejected\n$/);
    const widened = await runCli(['rules', 'export', '--format', 'kibana', dir, '--allow-widened']);
    expect(widened.code).toBe(0);
    expect(JSON.parse(widened.stdout.toString())).toMatchObject({ rule_id: '3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a', tags: expect.arrayContaining(['tapwire:widened']) as string[] });
    expect(widened.stderr.split('\n')).toEqual([
      `widened ${file}:14: 3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a (Climb): regex of line 14: [^\\n]{0,512} widened to unbounded [^\\n]*`,
      '0 rules exported exactly and 1 widened (not identical: tagged tapwire:widened), 0 skipped, 0 rejected',
      '',
    ]);
  });

  it('exits 1 when a rule does not compile, and 2 without --format kibana', async () => {
    const rejected = await runCli(['rules', 'export', '--format', 'kibana', broken]);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toMatch(/unknown modifier 'nope'/);
    const noFormat = await runCli(['rules', 'export', clean]);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toMatch(/--format is required/);
    const otherFormat = await runCli(['rules', 'export', '--format', 'splunk', clean]);
    expect(otherFormat.code).toBe(2);
  });
});
