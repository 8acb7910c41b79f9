/** Sigma v2 correlation rules over event time: each type, sliding and whole windows, chaining, aliases, bounded state. */
import { describe, expect, it } from 'vitest';
import { compileRules, RuleEngine } from '../../detectors/sigma/index.js';
import { checkAlert } from '../../pipeline/schemaValidator.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { mcpEvent, toolCall, toolResult } from './mcpEvents.js';
import { dedent, engineFor, runAll } from './ruleHarness.js';

const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const call = (name: string, seconds: number, session = 's1', args: Record<string, unknown> = {}): McpEvent =>
  toolCall(name, args, { at: at(seconds), session, sequence: Math.round(seconds * 1000) });

/** Base rules (no level or category: they only feed correlations), by name. */
const BASE_RULES: Record<string, string> = {
  any_call: 'sel:\n    gen_ai.tool.name|exists: true',
  ssh_read: "sel:\n    gen_ai.tool.call.arguments.path|contains: '/.ssh/'",
  net_post: 'sel:\n    gen_ai.tool.name: http_post',
  delete_file: 'sel:\n    gen_ai.tool.name: delete_file',
};

function baseRule(name: string): string {
  const detection = `${BASE_RULES[name] ?? ''}\ncondition: sel`.replace(/^/gm, '    ');
  return `title: Base ${name}\nid: ${name.replace('_', '-')}\nname: ${name}\nlogsource:\n    product: mcp\n    category: tool_call\ndetection:\n${detection}\n`;
}

/** A correlation over base rules (listed in its `rules: [...]`), followed by those rules as further documents. */
function correlation(body: string): string {
  const names = /rules: \[([^\]]*)\]/.exec(body)?.[1]?.split(',').map((n) => n.trim()) ?? [];
  const head = `title: Correlation under test\nid: corr\nlevel: high\ntags: [tapwire.category.anomalous_tool_use, atlas.aml.t0051]\ncorrelation:\n${dedent(body).replace(/^/gm, '    ')}\n`;
  return [head, ...names.map(baseRule)].join('---\n');
}

function expectValid(alerts: ReturnType<typeof runAll>): void {
  for (const alert of alerts) expect(checkAlert(alert).errors).toEqual([]);
}

describe('event_count', () => {
  const rule = correlation('type: event_count\nrules: [any_call]\ngroup-by: [mcp.session.id]\ntimespan: 1m\ncondition: {gte: 3}');

  it('fires when the count is reached inside a sliding window, per group', () => {
    const events = [call('a', 0), call('b', 50), call('c', 0.5, 's2'), call('d', 70), call('e', 80), call('f', 85)];
    const alerts = runAll(rule, events);
    expectValid(alerts);
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    // At 70 s the 0 s call has slid out; at 80 s the window holds 50, 70 and 80 s.
    expect(alert?.alert.source_event_ids).toEqual(['s1:50000', 's1:70000', 's1:80000']);
    expect(alert?.['@timestamp']).toBe(at(80));
    expect(alert?.alert.matched).toEqual([{ field: 'mcp.session.id', value: 's1' }]);
    expect(alert?.alert.details).toEqual({ correlation: { type: 'event_count', count: 3, timespan: '1m', group: { 'mcp.session.id': 's1' } } });
    expect(alert?.rule.id).toBe('corr');
  });

  it('starts afresh after firing, so the next alert needs new events', () => {
    const events = [0, 1, 2, 3, 4, 5].map((s) => call('x', s));
    const alerts = runAll(rule, events);
    expect(alerts.map((a) => a.alert.source_event_ids)).toEqual([
      ['s1:0', 's1:1000', 's1:2000'],
      ['s1:3000', 's1:4000', 's1:5000'],
    ]);
  });

  it('judges upper bounds when event time passes the end of the window', () => {
    const quiet = correlation('type: event_count\nrules: [any_call]\ngroup-by: [mcp.session.id]\ntimespan: 1m\ncondition: {lt: 3}');
    const engine = engineFor(quiet);
    expect(engine.evaluate(call('a', 0))).toEqual([]);
    expect(engine.evaluate(call('b', 10))).toEqual([]);
    expect(engine.evaluate(call('c', 20, 's2'))).toEqual([]);
    // Another session's event at 61 s moves event time past s1's window (0..60 s): s1 had 2 < 3 calls.
    const closed = engine.evaluate(call('d', 61, 's2'));
    expect(closed.map((a) => a.alert.source_event_ids)).toEqual([['s1:0', 's1:10000']]);
    expect(engine.advanceTo(at(79))).toEqual([]);
    expect(engine.advanceTo(at(81)).map((a) => a.alert.source_event_ids)).toEqual([['s2:20000', 's2:61000']]);
  });

  it('eq needs exactly the count over the whole window, and flush judges open windows', () => {
    const exactly = correlation('type: event_count\nrules: [any_call]\ngroup-by: [mcp.session.id]\ntimespan: 1m\ncondition: {eq: 2}');
    const alerts = runAll(exactly, [call('a', 0), call('b', 5), call('c', 0, 's2'), call('d', 1, 's2'), call('e', 2, 's2')]);
    expect(alerts.map((a) => a.alert.source_event_ids)).toEqual([['s1:0', 's1:5000']]);
  });

  it('ignores matches that lack a group-by field', () => {
    const byUser = correlation('type: event_count\nrules: [any_call]\ngroup-by: [user.name]\ntimespan: 1m\ncondition: {gte: 2}');
    const withUser = (s: number): McpEvent => mcpEvent({ method: 'tools/call', kind: 'request', at: at(s), sequence: s }, { gen_ai: { tool: { name: 'x' } }, user: { name: 'ana' } });
    expect(runAll(byUser, [call('a', 0), call('b', 1), call('c', 2)])).toEqual([]);
    expect(runAll(byUser, [withUser(0), call('b', 1), withUser(2)])).toHaveLength(1);
  });
});

describe('value_count', () => {
  it('counts distinct values of the field per group', () => {
    const rule = correlation('type: value_count\nrules: [any_call]\ngroup-by: [mcp.session.id]\ntimespan: 1m\ncondition: {field: gen_ai.tool.name, gte: 3}');
    expect(runAll(rule, [call('a', 0), call('a', 1), call('b', 2), call('b', 3)])).toEqual([]);
    const alerts = runAll(rule, [call('a', 0), call('a', 1), call('b', 2), call('c', 3)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.alert.details).toMatchObject({ correlation: { type: 'value_count', count: 3 } });
    // Distinct values that slide out of the window stop counting.
    expect(runAll(rule, [call('a', 0), call('b', 30), call('c', 61)])).toEqual([]);
  });
});

describe('temporal', () => {
  const rule = correlation('type: temporal\nrules: [ssh_read, net_post]\ngroup-by: [mcp.session.id]\ntimespan: 5m');
  const sshRead = (s: number, session = 's1'): McpEvent => call('read_file', s, session, { path: '/home/u/.ssh/id_rsa' });

  it('fires when every rule matched within the timespan, in any order', () => {
    expect(runAll(rule, [call('http_post', 0), sshRead(100)])).toHaveLength(1);
    expect(runAll(rule, [sshRead(0), call('http_post', 299)])).toHaveLength(1);
  });

  it('does not fire across groups or beyond the timespan', () => {
    expect(runAll(rule, [sshRead(0), call('http_post', 301)])).toEqual([]);
    expect(runAll(rule, [sshRead(0, 's1'), call('http_post', 10, 's2')])).toEqual([]);
    expect(runAll(rule, [sshRead(0), sshRead(10)])).toEqual([]);
  });
});

describe('temporal_ordered', () => {
  const rule = correlation('type: temporal_ordered\nrules: [ssh_read, net_post, delete_file]\ngroup-by: [mcp.session.id]\ntimespan: 5m');
  const sshRead = (s: number): McpEvent => call('read_file', s, 's1', { path: '/home/u/.ssh/id_rsa' });

  it('fires when the rules match in the listed order', () => {
    const alerts = runAll(rule, [sshRead(0), call('noise', 5), call('http_post', 10), call('delete_file', 20)]);
    expect(alerts.map((a) => a.alert.source_event_ids)).toEqual([['s1:0', 's1:10000', 's1:20000']]);
    expectValid(alerts);
  });

  it('does not fire out of order or beyond the timespan', () => {
    expect(runAll(rule, [call('http_post', 0), sshRead(10), call('delete_file', 20)])).toEqual([]);
    expect(runAll(rule, [sshRead(0), call('delete_file', 10), call('http_post', 20)])).toEqual([]);
    expect(runAll(rule, [sshRead(0), call('http_post', 10), call('delete_file', 301)])).toEqual([]);
  });

  it('keeps the latest start so a late first step can still complete', () => {
    const alerts = runAll(rule, [sshRead(0), sshRead(200), call('http_post', 250), call('delete_file', 480)]);
    expect(alerts.map((a) => a.alert.source_event_ids)).toEqual([['s1:200000', 's1:250000', 's1:480000']]);
  });

  it('with gte 2 fires on any two rules in order', () => {
    const two = correlation('type: temporal_ordered\nrules: [ssh_read, net_post, delete_file]\ngroup-by: [mcp.session.id]\ntimespan: 5m\ncondition: {gte: 2}');
    expect(runAll(two, [sshRead(0), call('delete_file', 10)]).map((a) => a.alert.source_event_ids)).toEqual([['s1:0', 's1:10000']]);
  });
});

describe('chaining, aliases and generate', () => {
  it('correlates a correlation (failed calls followed by a success, the specification example)', () => {
    const outcomeRule = (name: string, isError: boolean): string =>
      `title: ${name}\nid: ${name}\nname: ${name}\nlogsource: {product: mcp, category: tool_result}\ndetection:\n    sel: {gen_ai.tool.call.result.isError: ${isError}}\n    condition: sel\n`;
    const text = [
      dedent(`
        title: Repeated tool failures then success
        id: fail-then-success
        level: critical
        tags: [tapwire.category.anomalous_tool_use]
        correlation:
            type: temporal_ordered
            rules: [many_failures, tool_success]
            group-by: [mcp.session.id]
            timespan: 10m
      `),
      dedent(`
        title: Many failures
        id: many-failures
        name: many_failures
        correlation:
            type: event_count
            rules: [tool_failure]
            group-by: [mcp.session.id]
            timespan: 10m
            condition: {gte: 3}
      `),
      outcomeRule('tool_failure', true),
      outcomeRule('tool_success', false),
    ].join('\n---\n');
    const result = (s: number, isError: boolean): McpEvent => toolResult('login', { content: [], isError }, { at: at(s), sequence: s });
    expect(runAll(text, [result(0, false), result(1, true), result(2, true), result(3, false)])).toEqual([]);
    const alerts = runAll(text, [result(0, false), result(1, true), result(2, true), result(3, true), result(4, false)]);
    expect(alerts.map((a) => a.rule.id)).toEqual(['fail-then-success']);
    expect(alerts[0]?.alert.source_event_ids).toEqual(['session-1:1', 'session-1:2', 'session-1:3', 'session-1:4']);
    expectValid(alerts);
  });

  it('aliases group different fields of different rules', () => {
    const text = dedent(`
      title: Fetch then read of the same host
      id: fetch-read
      level: medium
      tags: [tapwire.category.ssrf]
      correlation:
          type: temporal
          rules: [fetch_call, resource_read]
          group-by: [target]
          timespan: 1m
          aliases:
              target:
                  fetch_call: gen_ai.tool.call.arguments.host
                  resource_read: mcp.resource.uri
      ---
      title: Fetch
      name: fetch_call
      id: fetch-call
      logsource: {product: mcp, category: tool_call}
      detection:
          sel: {gen_ai.tool.name: fetch}
          condition: sel
      ---
      title: Resource read
      name: resource_read
      id: resource-read
      logsource: {product: mcp, category: resource_read}
      detection:
          sel: {mcp.resource.uri|exists: true}
          condition: sel
    `);
    const read = (uri: string, s: number): McpEvent => mcpEvent({ method: 'resources/read', kind: 'response', at: at(s), sequence: s }, { mcp: { resource: { uri } } });
    expect(runAll(text, [call('fetch', 0, 's1', { host: 'internal.example' }), read('internal.example', 5)])).toHaveLength(1);
    expect(runAll(text, [call('fetch', 0, 's1', { host: 'internal.example' }), read('other.example', 5)])).toEqual([]);
  });

  it('referenced rules alert only when the correlation sets generate', () => {
    const events = [call('a', 0), call('b', 1)];
    const body = 'type: event_count\nrules: [any_call]\ngroup-by: [mcp.session.id]\ntimespan: 1m\ncondition: {gte: 2}';
    expect(runAll(correlation(body), events).map((a) => a.rule.id)).toEqual(['corr']);
    const generating = correlation(`${body}\ngenerate: true`).replace('title: Base any_call', 'title: Base any_call\nlevel: low\ntags: [tapwire.category.anomalous_tool_use]');
    expect(runAll(generating, events).map((a) => a.rule.id)).toEqual(['any-call', 'any-call', 'corr']);
  });
});

describe('state, time and determinism', () => {
  it('bounds groups, evicting the least recently used', () => {
    const rule = correlation('type: event_count\nrules: [any_call]\ngroup-by: [mcp.session.id]\ntimespan: 1h\ncondition: {gte: 2}');
    const { rules, errors } = compileRules([{ path: 'rules/c.yml', text: rule }], { correlation: { maxGroups: 2 } });
    expect(errors).toEqual([]);
    const engine = new RuleEngine(rules);
    engine.evaluate(call('x', 0, 'a'));
    engine.evaluate(call('x', 1, 'b'));
    engine.evaluate(call('x', 2, 'c')); // evicts a (least recently used)
    expect(engine.stats()).toMatchObject({ correlationGroups: 2, correlationEvictions: 1 });
    expect(engine.evaluate(call('x', 3, 'a'))).toEqual([]); // a starts over (evicts b)
    expect(engine.evaluate(call('x', 4, 'c'))).toHaveLength(1);
    expect(engine.evaluate(call('x', 5, 'a'))).toHaveLength(1);
  });

  it('bounds matches per group and drops groups whose window has passed', () => {
    const rule = correlation('type: event_count\nrules: [any_call]\ngroup-by: [mcp.session.id]\ntimespan: 1m\ncondition: {gte: 4}');
    const { rules } = compileRules([{ path: 'rules/c.yml', text: rule }], { correlation: { maxEventsPerGroup: 4, maxAlertSources: 2 } });
    const engine = new RuleEngine(rules);
    const alerts = [0, 1, 2, 3].flatMap((s) => engine.evaluate(call('x', s)));
    expect(alerts.map((a) => a.alert.source_event_ids)).toEqual([['s1:2000', 's1:3000']]);
    engine.evaluate(call('x', 10, 'other'));
    expect(engine.stats().correlationGroups).toBe(1);
    engine.advanceTo(at(100));
    expect(engine.stats().correlationGroups).toBe(0);
  });

  it('uses event time, so a replay gives identical alerts whenever it runs', () => {
    const rule = correlation('type: event_count\nrules: [any_call]\ngroup-by: [mcp.session.id]\ntimespan: 1m\ncondition: {gte: 2}');
    const events = [call('a', 0), call('b', 3600), call('c', 3601), call('d', 0.5, 's2'), call('e', 7200, 's2')];
    const first = runAll(rule, events);
    const second = runAll(rule, events);
    expect(first).toEqual(second);
    expect(first.map((a) => a.alert.source_event_ids)).toEqual([['s1:3600000', 's1:3601000']]);
  });
});
