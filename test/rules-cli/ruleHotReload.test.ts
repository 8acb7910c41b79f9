/**
 * Hot reload of a rule directory with real files in a temp dir: RuleSet.reload() semantics, then RuleWatcher
 * driving it through fs.watch and, with watching disabled, through the node-cron re-scan alone.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RuleSet, type RuleReloadReport } from '../../detectors/sigma/ruleSet.js';
import { rescanSchedule, RuleWatcher } from '../../detectors/sigma/ruleWatcher.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { toolCall } from '../sigma/mcpEvents.js';

const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
let sequence = 0;
const call = (name: string, seconds = 0, session = 's1'): McpEvent => toolCall(name, {}, { at: at(seconds), session, sequence: sequence++ });

/** The log source and detection of a rule matching calls of `tool`. */
const matchingCallsOf = (tool: string): string[] => ['logsource: {product: mcp, category: tool_call}', 'detection:', '    sel:', `        gen_ai.tool.name: ${tool}`, '    condition: sel'];

/** A one-rule file matching calls of `tool`, titled `title`. */
function ruleFile(id: string, title: string, tool: string): string {
  return [`title: ${title}`, `id: ${id}`, 'level: high', 'tags: [tapwire.category.anomalous_tool_use]', ...matchingCallsOf(tool), ''].join('\n');
}

/** A correlation (3 calls of `tool` per session in 1 h) with its base rule, in one file. */
function correlationFile(id: string, tool: string): string {
  const correlation = ['type: event_count', `rules: [${id}-base]`, 'group-by: [mcp.session.id]', 'timespan: 1h', 'condition: {gte: 3}'].map((l) => `    ${l}`);
  return [`title: Repeated ${tool}`, `id: ${id}`, 'level: medium', 'tags: [tapwire.category.anomalous_tool_use]', 'correlation:', ...correlation, '---', `title: Base ${tool}`, `id: ${id}-base`, ...matchingCallsOf(tool), ''].join('\n');
}

/** Polls `check` every 25 ms until it returns true; fails after `timeoutMs`. */
async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const titles = (set: RuleSet, event: McpEvent): string[] => set.evaluate(event).map((a) => a.rule.name).sort();

let dir: string;
let reports: RuleReloadReport[];
const load = (): RuleSet => RuleSet.load(dir, { onReload: (r) => reports.push(r) });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tapwire-rules-reload-'));
  reports = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('RuleSet.reload', () => {
  it('loads a directory recursively and leaves test files out', () => {
    mkdirSync(join(dir, 'calls'));
    writeFileSync(join(dir, 'calls', 'read.yml'), ruleFile('r-read', 'Read', 'read_file'));
    writeFileSync(join(dir, 'calls', 'read.tests.yml'), 'tests: []\n');
    const set = load();
    expect(set.rules.map((r) => r.meta.id)).toEqual(['r-read']);
    expect(titles(set, call('read_file'))).toEqual(['Read']);
    expect(reports[0]?.added).toEqual([join(dir, 'calls', 'read.yml')]);
  });

  it('swaps a changed rule in, and returns nothing when no file changed', () => {
    const path = join(dir, 'a.yml');
    writeFileSync(path, ruleFile('r-a', 'Version one', 'read_file'));
    const set = load();
    writeFileSync(path, ruleFile('r-a', 'Version two (edited)', 'read_file'));
    const report = set.reload();
    expect(report?.changed).toEqual([path]);
    expect(titles(set, call('read_file'))).toEqual(['Version two (edited)']);
    expect(set.reload()).toBeUndefined();
  });

  it('keeps the previous version of a file whose new version does not compile, and reports FILE:LINE', () => {
    const path = join(dir, 'a.yml');
    writeFileSync(path, ruleFile('r-a', 'Good', 'read_file'));
    const logged: { level: number; msg: string; file?: string; line?: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(JSON.parse(chunk.toString()) as (typeof logged)[number]);
        done();
      },
    });
    const set = RuleSet.load(dir, { onReload: (r) => reports.push(r), logger: pino({ level: 'info' }, sink) });
    writeFileSync(path, ruleFile('r-a', 'Broken', 'read_file').replace('gen_ai.tool.name:', 'gen_ai.tool.name|bogus:'));
    const report = set.reload();
    expect(report?.keptPrevious).toEqual([path]);
    expect(report?.errors).toHaveLength(1);
    expect(report?.errors[0]?.message.startsWith(`${path}:8: field 'gen_ai.tool.name': unknown modifier 'bogus'`)).toBe(true);
    expect(logged.filter((l) => l.level === 40).map((l) => [l.file, l.line, l.msg.slice(0, path.length + 2)])).toEqual([[path, 8, `${path}:8`]]);
    expect(titles(set, call('read_file'))).toEqual(['Good']);
    // Fixed later: the new version replaces the kept one.
    writeFileSync(path, ruleFile('r-a', 'Fixed version', 'write_file'));
    set.reload();
    expect(titles(set, call('read_file'))).toEqual([]);
    expect(titles(set, call('write_file'))).toEqual(['Fixed version']);
  });

  it('loads the rules of a new file that compile, as at startup', () => {
    writeFileSync(join(dir, 'a.yml'), ruleFile('r-a', 'First', 'read_file'));
    const set = load();
    writeFileSync(join(dir, 'b.yml'), `${ruleFile('r-b', 'Good one', 'list_dir')}---\n${ruleFile('r-c', 'Bad one', 'x').replace('level: high', 'level: severe')}`);
    const report = set.reload();
    expect(report?.errors.map((e) => e.file)).toEqual([join(dir, 'b.yml')]);
    expect(set.rules.map((r) => r.meta.id).sort()).toEqual(['r-a', 'r-b']);
  });

  it('removes the rules of a deleted file', () => {
    writeFileSync(join(dir, 'a.yml'), ruleFile('r-a', 'Stays', 'read_file'));
    writeFileSync(join(dir, 'b.yml'), ruleFile('r-b', 'Goes', 'read_file'));
    const set = load();
    expect(titles(set, call('read_file'))).toEqual(['Goes', 'Stays']);
    unlinkSync(join(dir, 'b.yml'));
    expect(set.reload()?.removed).toEqual([join(dir, 'b.yml')]);
    expect(titles(set, call('read_file'))).toEqual(['Stays']);
  });

  it('keeps every rule when the directory itself disappears', () => {
    writeFileSync(join(dir, 'a.yml'), ruleFile('r-a', 'Stays', 'read_file'));
    const set = load();
    rmSync(dir, { recursive: true });
    expect(set.reload()?.errors[0]?.message).toMatch(/rule directory is missing; the 1 active rules stay active/);
    expect(titles(set, call('read_file'))).toEqual(['Stays']);
  });

  it('keeps correlation state across reloads of other files, and resets it when the correlation file changes', () => {
    writeFileSync(join(dir, 'corr.yml'), correlationFile('corr', 'read_file'));
    writeFileSync(join(dir, 'other.yml'), ruleFile('r-o', 'Other', 'list_dir'));
    const set = load();
    expect(set.evaluate(call('read_file', 1))).toEqual([]);
    expect(set.evaluate(call('read_file', 2))).toEqual([]);
    writeFileSync(join(dir, 'other.yml'), ruleFile('r-o', 'Other, edited', 'list_dir'));
    set.reload();
    expect(set.stats().correlationGroups).toBe(1);
    expect(set.evaluate(call('read_file', 3)).map((a) => a.rule.id)).toEqual(['corr']);
    // Editing the correlation's own file starts its counting afresh.
    set.evaluate(call('read_file', 4));
    set.evaluate(call('read_file', 5));
    writeFileSync(join(dir, 'corr.yml'), correlationFile('corr', 'read_file').replace('Repeated', 'Repeatedly'));
    set.reload();
    expect(set.stats().correlationGroups).toBe(0);
    expect(set.evaluate(call('read_file', 6))).toEqual([]);
  });
});

describe('RuleWatcher', () => {
  let watcher: RuleWatcher | undefined;
  afterEach(async () => {
    await watcher?.stop();
    watcher = undefined;
  });

  it('picks up a change through fs.watch within seconds, a broken edit keeps the old rule, a delete removes it', async () => {
    const path = join(dir, 'a.yml');
    writeFileSync(path, ruleFile('r-a', 'Watched v1', 'read_file'));
    const set = load();
    watcher = new RuleWatcher(set, { debounceMs: 50, rescanSeconds: 30 });
    watcher.start();
    expect(watcher.watchMode).not.toBe('off');

    writeFileSync(path, ruleFile('r-a', 'Watched v2', 'read_file'));
    await eventually(() => titles(set, call('read_file')).includes('Watched v2'));

    writeFileSync(path, `${ruleFile('r-a', 'Watched v3 broken', 'read_file')}    condition: [unclosed\n`);
    await eventually(() => reports.some((r) => r.keptPrevious.includes(path)));
    expect(reports.at(-1)?.errors[0]?.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `));
    expect(titles(set, call('read_file'))).toEqual(['Watched v2']);

    mkdirSync(join(dir, 'more'));
    writeFileSync(join(dir, 'more', 'b.yml'), ruleFile('r-b', 'In a new directory', 'read_file'));
    await eventually(() => titles(set, call('read_file')).includes('In a new directory'));

    unlinkSync(path);
    await eventually(() => !titles(set, call('read_file')).includes('Watched v2'));
    expect(titles(set, call('read_file'))).toEqual(['In a new directory']);
  });

  it('picks up a change through the cron re-scan alone when fs.watch is off', async () => {
    const path = join(dir, 'a.yml');
    writeFileSync(path, ruleFile('r-a', 'Scanned v1', 'read_file'));
    const set = load();
    watcher = new RuleWatcher(set, { fsWatch: false, rescanSeconds: 1 });
    watcher.start();
    expect(watcher.watchMode).toBe('off');
    writeFileSync(path, ruleFile('r-a', 'Scanned v2 (by cron)', 'read_file'));
    await eventually(() => titles(set, call('read_file')).includes('Scanned v2 (by cron)'));
  });

  it('evaluates every event while rules reload under it', async () => {
    const path = join(dir, 'a.yml');
    writeFileSync(path, ruleFile('r-a', 'Generation 0', 'read_file'));
    const set = load();
    watcher = new RuleWatcher(set, { debounceMs: 10, rescanSeconds: 1 });
    watcher.start();
    const seen = new Set<string>();
    let evaluated = 0;
    let alerted = 0;
    let stop = false;
    // Events keep flowing (one per macrotask) while the file is rewritten and reloaded many times.
    const flow = (async () => {
      while (!stop) {
        const alerts = set.evaluate(call('read_file'));
        evaluated++;
        alerted += alerts.length;
        for (const a of alerts) seen.add(a.rule.name);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    try {
      for (let generation = 1; generation <= 5; generation++) {
        await eventually(() => seen.has(`Generation ${generation - 1}`));
        writeFileSync(path, ruleFile('r-a', `Generation ${generation}`, 'read_file'));
      }
      await eventually(() => seen.has('Generation 5'));
    } finally {
      stop = true;
      await flow;
    }
    // Both versions match every event: each one evaluated raised exactly one alert, whichever version ran.
    expect(alerted).toBe(evaluated);
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5].map((g) => `Generation ${g}`));
  });
});

describe('rescanSchedule', () => {
  it('turns seconds into a cron expression with a seconds field, and refuses uneven periods', () => {
    expect(rescanSchedule(30)).toBe('*/30 * * * * *');
    expect(rescanSchedule(1)).toBe('*/1 * * * * *');
    expect(rescanSchedule(120)).toBe('0 */2 * * * *');
    expect(() => rescanSchedule(45)).toThrow(/divisor of 60/);
    expect(() => rescanSchedule(0)).toThrow(/divisor of 60/);
  });
});
