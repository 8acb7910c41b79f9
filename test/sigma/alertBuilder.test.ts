/** buildAlert: schema-valid alerts with severity, threat, MCP context, bounded matches and deterministic fingerprints. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alertContextOf, alertSourceOf, buildAlert, threatFromTags, type AlertLevel, type AlertRuleInfo } from '../../detectors/alertBuilder.js';
import { checkAlert } from '../../pipeline/schemaValidator.js';
import { tapwireVersion } from '../../pipeline/packagePaths.js';
import { toolCall } from './mcpEvents.js';
import { engineFor, ruleText } from './ruleHarness.js';

const rule: AlertRuleInfo = {
  id: 'tw-0001',
  name: 'Secret file read through a tool',
  description: 'A tool call names a private key file.',
  version: '2025-06-01',
  category: 'sensitive_data',
  level: 'high',
  reference: 'https://example.org/tw-0001',
  author: ['Tapwire'],
  tags: ['atlas.aml.t0057', 'owasp-mcp.mcp01', 'tapwire.category.sensitive_data'],
};

const first = toolCall('read_file', { path: '/home/u/.ssh/id_rsa' }, { at: '2025-06-01T12:00:05.000Z', session: 'sess-9', sequence: 4, server: 'files' });
const second = toolCall('read_file', { path: '/x' }, { at: '2025-06-01T12:00:09.000Z', session: 'sess-9', sequence: 2, server: 'files' });

describe('buildAlert', () => {
  it('produces a schema-valid alert carrying the rule, the MCP context and the sources', () => {
    const alert = buildAlert({ rule, context: alertContextOf(first), sources: [alertSourceOf(first), alertSourceOf(second)], matched: [{ field: 'gen_ai.tool.call.arguments.path', value: '/home/u/.ssh/id_rsa' }] });
    expect(checkAlert(alert).errors).toEqual([]);
    expect(alert.rule).toEqual({ id: 'tw-0001', name: rule.name, description: rule.description, version: '2025-06-01', category: 'sensitive_data', reference: rule.reference, author: ['Tapwire'] });
    expect(alert.event).toMatchObject({ kind: 'alert', dataset: 'mcp.alerts', severity: 73, risk_score: 73 });
    expect(alert.mcp).toEqual({
      server: { id: 'npx -y files', name: 'files', version: '1.0.0' },
      session: { id: 'sess-9' },
      host_session: { id: 'dev-laptop:4242:2025-06-01T11:00:00Z' },
      method: { name: 'tools/call' },
      transport: 'stdio',
    });
    expect(alert.gen_ai).toEqual({ tool: { name: 'read_file' } });
    expect(alert.host).toEqual({ hostname: 'dev-laptop' });
    expect(alert.alert.source_event_ids).toEqual(['sess-9:4', 'sess-9:2']);
    expect(alert['@timestamp']).toBe('2025-06-01T12:00:09.000Z');
    expect(alert.observer).toEqual({ product: 'tapwire', vendor: 'Tapwire', version: tapwireVersion() });
    expect(alert.tags).toEqual(rule.tags);
    expect(alert.message).toBe('Secret file read through a tool (high) on MCP server "files", tool "read_file", method tools/call, session sess-9 from 2 events.');
  });

  it('derives a deterministic fingerprint from the rule id, the sorted source ids and a discriminator', () => {
    const make = (sources = [alertSourceOf(first), alertSourceOf(second)], discriminator?: string) =>
      buildAlert({ rule, context: alertContextOf(first), sources, ...(discriminator === undefined ? {} : { discriminator }) });
    const expected = createHash('sha256').update('tw-0001\nsess-9:2\nsess-9:4').digest('hex');
    expect(make().alert.fingerprint).toBe(expected);
    expect(make().event.id).toBe(expected);
    expect(make([alertSourceOf(second), alertSourceOf(first)]).alert.fingerprint).toBe(expected);
    expect(make(undefined, 'tool:read_file').alert.fingerprint).not.toBe(expected);
    expect(make(undefined, 'tool:read_file').alert.fingerprint).toBe(make(undefined, 'tool:read_file').alert.fingerprint);
  });

  it.each([
    ['informational', 21, 10],
    ['low', 21, 21],
    ['medium', 47, 47],
    ['high', 73, 73],
    ['critical', 99, 99],
  ] as [AlertLevel, number, number][])('level %s → severity %i, risk %i', (level, severity, risk) => {
    const alert = buildAlert({ rule: { ...rule, level }, context: alertContextOf(first), sources: [alertSourceOf(first)] });
    expect(alert.event.severity).toBe(severity);
    expect(alert.event.risk_score).toBe(risk);
    expect(checkAlert(alert).valid).toBe(true);
  });

  it('bounds matched values to 256 characters', () => {
    const alert = buildAlert({ rule, context: alertContextOf(first), sources: [alertSourceOf(first)], matched: [{ field: 'mcp.text.result', value: 'x'.repeat(1000) }, { field: 'gen_ai.tool.call.arguments.env' }] });
    expect(alert.alert.matched).toEqual([{ field: 'mcp.text.result', value: 'x'.repeat(256) }, { field: 'gen_ai.tool.call.arguments.env' }]);
  });

  it('refuses an alert without a source event', () => {
    expect(() => buildAlert({ rule, context: alertContextOf(first), sources: [] })).toThrow('alert for rule tw-0001 has no source event');
  });
});

describe('threat from tags', () => {
  it.each([
    [['atlas.aml.t0051', 'attack.t1059'], { framework: 'MITRE ATLAS', technique: [{ id: 'AML.T0051', reference: 'https://atlas.mitre.org/techniques/AML.T0051' }, { id: 'T1059', reference: 'https://attack.mitre.org/techniques/T1059/' }] }],
    [['atlas.t0051.000'], { framework: 'MITRE ATLAS', technique: [{ id: 'AML.T0051.000', reference: 'https://atlas.mitre.org/techniques/AML.T0051.000' }] }],
    [['attack.aml.t0054'], { framework: 'MITRE ATLAS', technique: [{ id: 'AML.T0054', reference: 'https://atlas.mitre.org/techniques/AML.T0054' }] }],
    [['attack.t1059.001', 'attack.execution'], { framework: 'MITRE ATT&CK', technique: [{ id: 'T1059.001', reference: 'https://attack.mitre.org/techniques/T1059/001/' }] }],
    [['owasp-mcp.mcp03', 'owasp-mcp.mcp03'], { framework: 'OWASP MCP Top 10', technique: [{ id: 'MCP03' }] }],
    [['tapwire.category.ssrf', 'attack.execution'], undefined],
  ])('%j', (tags, expected) => {
    expect(threatFromTags(tags)).toEqual(expected);
  });
});

describe('alerts from Sigma rules', () => {
  it('carry the rule metadata and what matched', () => {
    const text = ruleText({
      id: 'tw-0100',
      title: 'Private key path in tool arguments',
      category: 'tool_call',
      level: 'critical',
      tags: ['tapwire.category.sensitive_data', 'atlas.aml.t0057'],
      detection: "key:\n    gen_ai.tool.call.arguments.path|endswith:\n        - '/id_rsa'\n        - '/id_ed25519'\ntool:\n    gen_ai.tool.name|startswith: read\ncondition: key and tool",
    }).replace('level: critical', 'level: critical\ndescription: Reads of SSH private keys.\nreferences: [https://example.org/keys]\nauthor: Ana, Bo\ndate: 2025-05-01\nmodified: 2025-05-20');
    const [alert, ...rest] = engineFor(text).evaluate(first);
    expect(rest).toEqual([]);
    expect(checkAlert(alert).errors).toEqual([]);
    expect(alert?.rule).toEqual({
      id: 'tw-0100',
      name: 'Private key path in tool arguments',
      description: 'Reads of SSH private keys.',
      version: '2025-05-20',
      category: 'sensitive_data',
      reference: 'https://example.org/keys',
      author: ['Ana', 'Bo'],
      ruleset: 'sigma',
    });
    expect(alert?.event.severity).toBe(99);
    expect(alert?.threat?.technique).toEqual([{ id: 'AML.T0057', reference: 'https://atlas.mitre.org/techniques/AML.T0057' }]);
    expect(alert?.alert.matched).toEqual([
      { field: 'gen_ai.tool.call.arguments.path', value: '/home/u/.ssh/id_rsa' },
      { field: 'gen_ai.tool.name', value: 'read_file' },
    ]);
    expect(alert?.alert.source_event_ids).toEqual(['sess-9:4']);
  });
});

describe('alert.matched', () => {
  it('holds each field and value once when several selections match the same value', () => {
    const text = ruleText({
      id: 'tw-0101',
      title: 'SSH key path, by two selections',
      category: 'tool_call',
      level: 'high',
      tags: ['tapwire.category.sensitive_data'],
      detection: "by_dir:\n    gen_ai.tool.call.arguments.path|contains: '/.ssh/'\nby_name:\n    gen_ai.tool.call.arguments.path|endswith: '/id_rsa'\ncondition: by_dir and by_name",
    });
    const [alert] = engineFor(text).evaluate(first);
    expect(alert?.alert.matched).toEqual([{ field: 'gen_ai.tool.call.arguments.path', value: '/home/u/.ssh/id_rsa' }]);
  });
});
