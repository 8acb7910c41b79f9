/**
 * Kibana export: the import format of every exported line, Lucene translations of representative detections
 * (the expected queries are written out by hand from Lucene's syntax), RE2 regexes translated to Lucene regular
 * expressions checked against RE2 itself on sample texts, correlations as threshold rules and EQL sequences,
 * and the skip list with its reasons. The shipped pack is exported as a whole too; test/elasticsearch/
 * ruleExportOnCluster.test.ts runs its queries on a real cluster.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportKibanaRules, kibanaNdjson, type KibanaExport, type KibanaRule } from '../../detectors/sigma/kibanaExport.js';
import { RE2JS } from 're2js';
import { luceneRegexesOfRe2 } from '../../detectors/sigma/luceneRegex.js';
import { findRuleFiles } from '../../detectors/sigma/ruleFiles.js';
import { packageRoot } from '../../pipeline/packagePaths.js';
import { ruleText, type RuleSpec } from '../sigma/ruleHarness.js';
import { kibanaImportProblems } from './kibanaImportFormat.js';
import { luceneAsJs } from './luceneAsJs.js';

const exportTexts = (texts: string[]): KibanaExport => exportKibanaRules(texts.map((text, i) => ({ path: `rules/r${i}.yml`, text })));

/** Exports one rule (category tool_call unless given) and returns its Kibana rule; fails if it was skipped. */
function exported(spec: Partial<RuleSpec> & { detection: string }): KibanaRule {
  const result = exportTexts([ruleText({ category: 'tool_call', ...spec })]);
  expect(result.skipped).toEqual([]);
  expect(result.errors).toEqual([]);
  const [rule] = result.rules;
  for (const line of kibanaNdjson(result.rules).trimEnd().split('\n')) expect(kibanaImportProblems(line)).toEqual([]);
  return rule as KibanaRule;
}

/** The reason a one-rule export skips the rule. */
function skipReason(spec: Partial<RuleSpec> & { detection: string }): string {
  const result = exportTexts([ruleText({ category: 'tool_call', ...spec })]);
  expect(result.rules).toEqual([]);
  expect(result.skipped).toHaveLength(1);
  return result.skipped[0]?.reason ?? '';
}

const TOOL_CALL = 'event.action:"tools/call" AND mcp.message.kind:"request"';
const TOOL_CALL_EQL = 'any where event.action == "tools/call" and mcp.message.kind == "request"';

describe('the import format', () => {
  it('fills every field the import API needs, from the rule', () => {
    const rule = exported({
      id: '0b5f3c1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      title: 'Cloud metadata address in a tool call',
      level: 'critical',
      tags: ['tapwire.category.ssrf', 'attack.t1552.005', 'atlas.aml.t0051.001', 'owasp-mcp.mcp05'],
      detection: "sel:\n    gen_ai.tool.call.arguments.host|startswith: '169.254.169.254'\ncondition: sel",
    });
    expect(rule).toMatchObject({
      rule_id: '0b5f3c1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      name: 'Cloud metadata address in a tool call',
      type: 'query',
      language: 'lucene',
      index: ['logs-mcp.messages-*'],
      severity: 'critical',
      risk_score: 99,
      enabled: false,
      from: 'now-360s',
      interval: '300s',
      license: 'Apache-2.0',
      tags: ['tapwire.category.ssrf', 'attack.t1552.005', 'atlas.aml.t0051.001', 'owasp-mcp.mcp05', 'Tapwire'],
    });
    // A prefix with no letters needs no case folding, and prefix queries run on flattened sub-fields.
    expect(rule.query).toBe(`${TOOL_CALL} AND gen_ai.tool.call.arguments.host:169.254.169.254*`);
    expect(rule.required_fields).toEqual([
      { name: 'event.action', type: 'keyword' },
      { name: 'mcp.message.kind', type: 'keyword' },
      { name: 'gen_ai.tool.call.arguments.host', type: 'flattened' },
    ]);
    const ref = (id: string, name: string, reference: string): Record<string, string> => ({ id, name, reference });
    expect(rule.threat).toEqual([
      {
        framework: 'MITRE ATLAS',
        tactic: ref('AML.TA0005', 'Execution', 'https://atlas.mitre.org/tactics/AML.TA0005'),
        technique: [{ ...ref('AML.T0051', 'LLM Prompt Injection', 'https://atlas.mitre.org/techniques/AML.T0051'), subtechnique: [ref('AML.T0051.001', 'Indirect', 'https://atlas.mitre.org/techniques/AML.T0051.001')] }],
      },
      {
        framework: 'MITRE ATT&CK',
        tactic: ref('TA0006', 'Credential Access', 'https://attack.mitre.org/tactics/TA0006/'),
        technique: [{ ...ref('T1552', 'Unsecured Credentials', 'https://attack.mitre.org/techniques/T1552/'), subtechnique: [ref('T1552.005', 'Cloud Instance Metadata API', 'https://attack.mitre.org/techniques/T1552/005/')] }],
      },
    ]);
  });

  it('takes references, false positives, author, license and version from the rule document', () => {
    const text = [
      'title: Documented',
      'id: 1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b',
      'status: test',
      'description: A described rule.',
      'references: [https://example.com/a, https://example.com/b]',
      'author: Ada, Grace',
      'date: 2025-06-01',
      'modified: 2025-07-15',
      'license: DRL-1.1',
      'level: informational',
      'falsepositives: [Backups that read dot files]',
      'tags: [tapwire.category.protocol, atlas.aml.t9999]',
      'logsource: {product: mcp, category: error}',
      'detection:',
      '    sel: {error.code: "-32601"}',
      '    condition: sel',
    ].join('\n');
    const result = exportTexts([text]);
    expect(result.rules[0]).toMatchObject({
      description: 'A described rule.',
      references: ['https://example.com/a', 'https://example.com/b'],
      false_positives: ['Backups that read dot files'],
      author: ['Ada', 'Grace'],
      license: 'DRL-1.1',
      version: 20250715,
      severity: 'low',
      risk_score: 10,
      threat: [],
      query: 'mcp.message.kind:"error" AND error.code:"-32601"',
    });
    expect(result.notes).toEqual(['rules/r0.yml:1: 1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b: no tactic known for AML.T9999; left out of threat']);
  });

  it('writes one JSON object per line', () => {
    const result = exportTexts([ruleText({ id: 'a', category: 'tool_call', detection: 'sel:\n    mcp.message.size|gt: 10\ncondition: sel' }), ruleText({ id: 'b', category: 'tool_call', detection: 'sel:\n    mcp.message.size|lt: 5\ncondition: sel' })]);
    const lines = kibanaNdjson(result.rules).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines.slice(0, 2).map((l) => (JSON.parse(l) as KibanaRule).rule_id)).toEqual(['a', 'b']);
  });
});

describe('single-event translations', () => {
  const query = (detection: string, category = 'tool_call'): string => exported({ detection, category }).query;

  it('equality and lists as quoted terms where case does not matter', () => {
    expect(query('sel:\n    gen_ai.tool.name|cased: [read_file, write_file]\ncondition: sel')).toBe(`${TOOL_CALL} AND gen_ai.tool.name:("read_file" OR "write_file")`);
    expect(query('sel:\n    jsonrpc.request.id: 7\ncondition: sel')).toBe(`${TOOL_CALL} AND jsonrpc.request.id:"7"`);
  });

  it('wildcards, contains, startswith and endswith as regular expressions with escaped literals', () => {
    expect(query("sel:\n    mcp.server.id|contains|cased: 'npx (beta)'\ncondition: sel")).toBe(`${TOOL_CALL} AND mcp.server.id:/.*npx\\ \\(beta\\).*/`);
    expect(query("sel:\n    mcp.server.id|startswith|cased: 'uvx '\ncondition: sel")).toBe(`${TOOL_CALL} AND mcp.server.id:/uvx\\ .*/`);
    expect(query("sel:\n    mcp.server.id|endswith|cased: '.py'\ncondition: sel")).toBe(`${TOOL_CALL} AND mcp.server.id:/.*\\.py/`);
    expect(query("sel:\n    mcp.server.id|cased: 'a*b\\*c'\ncondition: sel")).toBe(`${TOOL_CALL} AND mcp.server.id:/a.*b\\*c/`);
  });

  it('case folding as explicit classes, and ? as any one character', () => {
    expect(query("sel:\n    gen_ai.tool.name: [Read_File, 'exec?']\n    mcp.server.name|contains: 'Git'\ncondition: sel")).toBe(
      `${TOOL_CALL} AND gen_ai.tool.name:(/[Rr][Ee][Aa][Dd]\\_[Ff][Ii][Ll][Ee]/ OR /[Ee][Xx][Ee][Cc]./) AND mcp.server.name:/.*[Gg][Ii][Tt].*/`,
    );
    // JavaScript lower-cases the Kelvin sign to k, so the engine's case-insensitive k matches it.
    expect(query("sel:\n    mcp.server.name: 'k'\ncondition: sel")).toBe(`${TOOL_CALL} AND mcp.server.name:/[Kk\u212a]/`);
  });

  it('exists, null, numeric ranges, cidr, neq and all', () => {
    expect(query('sel:\n    mcp.session.http_id|exists: true\ncondition: sel')).toBe(`${TOOL_CALL} AND _exists_:mcp.session.http_id`);
    expect(query('sel:\n    mcp.session.http_id|exists: false\ncondition: sel')).toBe(`${TOOL_CALL} AND (*:* AND NOT _exists_:mcp.session.http_id)`);
    expect(query('sel:\n    mcp.session.http_id: null\ncondition: sel')).toBe(`${TOOL_CALL} AND (*:* AND NOT _exists_:mcp.session.http_id)`);
    expect(query('sel:\n    mcp.message.size|gte: 1048576\n    event.duration|lt: 5\ncondition: sel')).toBe(`${TOOL_CALL} AND mcp.message.size:>=1048576 AND event.duration:<5`);
    expect(query("sel:\n    source.ip|cidr: ['10.0.0.0/8', 'fd00::/8']\ncondition: sel", 'http')).toBe('_exists_:http AND (source.ip:"10.0.0.0/8" OR source.ip:"fd00::/8")');
    expect(query("sel:\n    mcp.message.kind|neq|cased: 'request'\ncondition: sel", 'notification')).toBe('mcp.message.kind:"notification" AND _exists_:mcp.message.kind AND (*:* AND NOT mcp.message.kind:"request")');
    expect(query("sel:\n    mcp.server.id|contains|all|cased: ['npx', '-y']\ncondition: sel")).toBe(`${TOOL_CALL} AND mcp.server.id:/.*npx.*/ AND mcp.server.id:/.*\\-y.*/`);
  });

  it('conditions: and, or, not, 1 of, all of, and a list of conditions', () => {
    const detection = [
      'sel_a:\n    mcp.message.size|gt: 10',
      'sel_b:\n    mcp.message.size|lt: 2',
      'filter:\n    mcp.message.truncated: true',
      'other:\n    mcp.message.correlated: false',
      'condition:\n    - 1 of sel_* and not filter\n    - all of sel_* or other',
    ].join('\n');
    expect(query(detection)).toBe(
      `${TOOL_CALL} AND (((mcp.message.size:>10 OR mcp.message.size:<2) AND (*:* AND NOT mcp.message.truncated:true)) OR (mcp.message.size:>10 AND mcp.message.size:<2) OR mcp.message.correlated:false)`,
    );
  });

  it('base64offset as its three case-sensitive encodings', () => {
    expect(query("sel:\n    mcp.server.id|base64offset|contains: 'curl '\ncondition: sel")).toBe(`${TOOL_CALL} AND mcp.server.id:(/.*Y3VybC.*/ OR /.*N1cmwg.*/ OR /.*jdXJsI.*/)`);
  });

  it('an object field as every field beneath it, as the engine reads it', () => {
    const evil = '/.*[Ee][Vv][Ii][Ll].*/';
    expect(query("sel:\n    mcp.server|contains: 'Evil'\ncondition: sel")).toBe(
      `${TOOL_CALL} AND mcp.server.id:${evil} AND mcp.server.name:${evil} AND mcp.server.version:${evil} AND mcp.server.reported_name:${evil} AND mcp.server.title:${evil}`.replace(/ AND mcp\.server\.(?!id)/g, ' OR mcp.server.').replace(`AND mcp.server.id:${evil} OR`, `AND (mcp.server.id:${evil} OR`) + ')',
    );
    expect(query('sel:\n    mcp.session|exists: false\ncondition: sel')).toBe(`${TOOL_CALL} AND (*:* AND NOT (_exists_:mcp.session.id OR _exists_:mcp.session.http_id))`);
  });

  it('the log source filter of each category', () => {
    expect(query('sel:\n    mcp.message.size|gt: 1\ncondition: sel', 'tool_result')).toBe('event.action:"tools/call" AND mcp.message.kind:("response" OR "error") AND mcp.message.size:>1');
    expect(query('sel:\n    mcp.message.size|gt: 1\ncondition: sel', 'initialize')).toBe('event.action:("initialize" OR "server/discover") AND mcp.message.size:>1');
  });

  it('a case-insensitive value of a flattened sub-field as each of its spellings (only terms run there)', () => {
    expect(query("sel:\n    gen_ai.tool.call.arguments.mode: 'Ab'\ncondition: sel")).toBe(`${TOOL_CALL} AND gen_ai.tool.call.arguments.mode:("AB" OR "Ab" OR "aB" OR "ab")`);
  });

  it("contains and regex on an indexed params key as regexes on the store's copy of the key's text", () => {
    expect(query("sel:\n    mcp.params.data|contains: 'Ab'\ncondition: sel")).toBe(`${TOOL_CALL} AND mcp.param_text.data:/.*[Aa][Bb].*/`);
    expect(query("sel:\n    mcp.params.url|re: '^http://'\ncondition: sel")).toBe(`${TOOL_CALL} AND mcp.param_text.url:/http\\:\\/\\/.*/`);
    // A key the store does not index stays where only terms run.
    expect(query("sel:\n    mcp.params.mode: 'Ab'\ncondition: sel")).toBe(`${TOOL_CALL} AND mcp.params.mode:("AB" OR "Ab" OR "aB" OR "ab")`);
  });

  it('a regex whose assertions become conditions on the neighbouring characters', () => {
    expect(query("sel:\n    gen_ai.tool.name|re: '^rm\\b'\ncondition: sel")).toBe(`${TOOL_CALL} AND gen_ai.tool.name:(/rm[^0-9A-Z\\_a-z].*/ OR /rm/)`);
    expect(query("sel:\n    gen_ai.tool.call.arguments|re|i: 'a.b$'\ncondition: sel")).toBe(`${TOOL_CALL} AND gen_ai.tool.call.arguments:/.*[Aa][^\\\n][Bb]/`);
  });
});

describe('RE2 regexes as Lucene regular expressions', () => {
  // Patterns of the shipped pack's shapes: assertions in every position, flags, classes, bounded repetition.
  const patterns: [string, string][] = [
    ['\\b(?:ignore|disregard)\\s{1,3}(?:all\\s{1,3})?previous\\b', 'i'],
    ['(?:^|[_.-])(?:shell|bash|sh)(?:$|[_.-])', 'i'],
    ['^\\s{0,5}file:/', 'i'],
    ['\\.env(?:\\.[a-z0-9_-]{1,20})?$', 'i'],
    ['\\bid_(?:rsa|ed25519)\\b', ''],
    ['[\\x{200B}-\\x{200D}\\x{2060}\\x{FEFF}]{2,}|.\\x{FEFF}', ''],
    ['\\p{Latin}[^\\s]{0,6}\\p{Cyrillic}', ''],
    ['^a$', 'm'],
    ['x\\By', ''],
    ['a.c', 's'],
  ];
  const texts = ['', 'ignore previous', 'Please IGNORE  all previous rules', 'xignore previous', 'ignore previousx', 'run_shell', 'SH', 'bashful', 'my-bash.x', '  file:/etc', 'file:/', ' x file:/', 'a/.env', '.env.local', '.env\n', 'id_rsa', 'xid_rsa', 'id_ed25519.pub', 'a\u200b\u200cb', 'a\ufeff', '\ufeff', 'pаypal', 'payраl', 'b\na\nc', 'a', 'xy', 'x y', 'xyz', 'a\nc', 'abc', 'ǅ', 'ſhell'];

  for (const [pattern, flags] of patterns) {
    it(`${pattern} (${flags || 'no flags'}) matches whole texts exactly where RE2 finds it in them`, () => {
      const expressions = luceneRegexesOfRe2(pattern, { caseInsensitive: flags.includes('i'), multiLine: flags.includes('m'), dotAll: flags.includes('s') }).map(luceneAsJs);
      const re2 = RE2JS.compile(pattern, (flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) | (flags.includes('m') ? RE2JS.MULTILINE : 0) | (flags.includes('s') ? RE2JS.DOTALL : 0));
      for (const text of texts) expect(expressions.some((e) => e.test(text)), JSON.stringify(text)).toBe(re2.test(text));
    });
  }
});

describe('correlations', () => {
  const base = (id: string, tool: string): string =>
    `title: Base ${tool}\nid: ${id}\nlogsource: {product: mcp, category: tool_call}\ndetection:\n    sel:\n        gen_ai.tool.name|cased: ${tool}\n    condition: sel\n`;
  const correlation = (body: string): string => `title: Correlated\nid: corr\nlevel: high\ntags: [tapwire.category.anomalous_tool_use]\ncorrelation:\n${body.replace(/^/gm, '    ')}\n`;

  it('event_count over one rule as a threshold rule over the timespan', () => {
    const result = exportTexts([`${correlation('type: event_count\nrules: [b-read]\ngroup-by: [mcp.session.id]\ntimespan: 1h\ncondition: {gte: 20}')}---\n${base('b-read', 'read_file')}`]);
    expect(result.skipped.map((s) => [s.id, s.reason])).toEqual([['b-read', 'it only feeds correlation rules (none sets generate: true), so it raises no alert of its own']]);
    expect(result.rules).toHaveLength(1);
    expect(result.rules[0]).toMatchObject({
      rule_id: 'corr',
      type: 'threshold',
      language: 'lucene',
      query: `${TOOL_CALL} AND gen_ai.tool.name:"read_file"`,
      threshold: { field: ['mcp.session.id'], value: 20 },
      from: 'now-3600s',
      interval: '3600s',
    });
    expect(kibanaImportProblems(kibanaNdjson(result.rules).trimEnd())).toEqual([]);
  });

  it('value_count as a threshold rule with a cardinality', () => {
    const result = exportTexts([`${correlation('type: value_count\nrules: [b-any]\ngroup-by: [mcp.session.id]\ntimespan: 10m\ncondition: {gt: 9, field: gen_ai.tool.name}')}---\n${base('b-any', 'x').replace('gen_ai.tool.name|cased: x', 'gen_ai.tool.name|exists: true')}`]);
    expect(result.rules[0]?.threshold).toEqual({ field: ['mcp.session.id'], value: 1, cardinality: [{ field: 'gen_ai.tool.name', value: 10 }] });
  });

  it('temporal_ordered as an EQL sequence joined on the group-by fields', () => {
    const result = exportTexts([
      `${correlation('type: temporal_ordered\nrules: [b-read, b-post]\ngroup-by: [mcp.session.id]\ntimespan: 10m')}---\n${base('b-read', 'read_file')}---\n${base('b-post', 'http_post')}`,
    ]);
    expect(result.rules[0]).toMatchObject({ type: 'eql', language: 'eql', from: 'now-900s', interval: '300s' });
    expect(result.rules[0]?.query).toBe(
      [
        'sequence with maxspan=600s',
        `  [${TOOL_CALL_EQL} and gen_ai.tool.name == "read_file"] by mcp.session.id`,
        `  [${TOOL_CALL_EQL} and gen_ai.tool.name == "http_post"] by mcp.session.id`,
      ].join('\n'),
    );
    expect(kibanaImportProblems(kibanaNdjson(result.rules).trimEnd())).toEqual([]);
  });

  it('skips what neither threshold rules nor sequences express', () => {
    const skipped = (body: string, bases = [base('b-read', 'read_file'), base('b-post', 'http_post')]): string => {
      const result = exportTexts([[correlation(body), ...bases].join('---\n')]);
      return result.skipped.find((s) => s.id === 'corr')?.reason ?? '(exported)';
    };
    expect(skipped('type: temporal\nrules: [b-read, b-post]\ngroup-by: [mcp.session.id]\ntimespan: 10m')).toMatch(/^temporal \(any order\) correlation/);
    expect(skipped('type: event_count\nrules: [b-read]\ntimespan: 10m\ncondition: {lt: 3}')).toMatch(/upper bound/);
    expect(skipped('type: event_count\nrules: [b-read, b-post]\ntimespan: 10m\ncondition: {gte: 3}')).toMatch(/event_count over 2 rules/);
    expect(skipped('type: temporal_ordered\nrules: [b-read, b-post]\ngroup-by: [gen_ai.tool.call.arguments.path]\ntimespan: 10m')).toMatch(/flattened field, which EQL cannot join/);
  });
});

describe('the skip list', () => {
  const cases: [string, string, RegExp][] = [
    ['a regex with an assertion inside a repetition', "sel:\n    gen_ai.tool.name|re: '(?:\\bx)+'\ncondition: sel", /inside a repetition/],
    ['a regex Lucene would take too long to determinize', "sel:\n    gen_ai.tool.call.arguments|re: '^[^\\n]{0,512}(?:\\.\\.[/\\\\]){3,}'\ncondition: sel", /deterministic automaton of more than 2000 states/],
    ['a regex on a flattened sub-field', "sel:\n    gen_ai.tool.call.arguments.cmd|re: 'x'\ncondition: sel", /flattened sub-field, where Elasticsearch runs only term, prefix and exists queries/],
    ['fieldref', 'sel:\n    mcp.server.name|fieldref: mcp.client.name\ncondition: sel', /fieldref' compares two fields/],
    ['keyword search', "kw:\n    - 'ignore previous'\ncondition: kw", /keyword search/],
    ['contains on a flattened sub-field', "sel:\n    gen_ai.tool.call.arguments.cmd|contains: ';'\ncondition: sel", /flattened sub-field, where Elasticsearch runs only term, prefix and exists queries/],
    ['a numeric comparison of a keyword', 'sel:\n    mcp.server.version|gt: 3\ncondition: sel', /needs a numeric field; 'mcp.server.version' is keyword/],
    ['cidr on a keyword', "sel:\n    mcp.server.id|cidr: '10.0.0.0/8'\ncondition: sel", /needs an ip field/],
    ['a time part', 'sel:\n    "@timestamp|hour": 3\ncondition: sel', /compares a part of a date/],
    ['an unknown field', 'sel:\n    gen_ai.tool.nmae: x\ncondition: sel', /'gen_ai.tool.nmae' is not a field of the event schema/],
    ['an object whose sub-fields are not listed', 'sel:\n    http|contains: x\ncondition: sel', /'http' is an object whose sub-fields the event schema does not list/],
  ];
  for (const [what, detection, reason] of cases) {
    it(`skips ${what}, with the reason`, () => expect(skipReason({ detection })).toMatch(reason));
  }

  it('names the rule file, and the line of what cannot be translated', () => {
    const result = exportTexts([`${ruleText({ id: 'ok', category: 'tool_call', detection: 'sel:\n    mcp.message.size|gt: 1\ncondition: sel' })}---\n${ruleText({ id: 'bad', title: 'Regex rule', category: 'tool_call', detection: "sel:\n    gen_ai.tool.name|re: '(?:\\bx)+'\ncondition: sel" })}`]);
    expect(result.rules.map((r) => r.rule_id)).toEqual(['ok']);
    expect(result.skipped).toEqual([{ file: 'rules/r0.yml', line: 24, id: 'bad', title: 'Regex rule', reason: expect.stringMatching(/inside a repetition/) as string }]);
  });
});

describe('the widened tier (allowWidened)', () => {
  // An anchored prefix of up to 512 characters (path_traversal_sequences' shape): exactly, Lucene's automaton would count them.
  const detection = "sel:\n    gen_ai.tool.call.arguments|re: '^[^\\n]{0,512}(?:\\.\\.[/\\\\]){3,}'\nexact:\n    mcp.message.size|gt: 5\ncondition: sel or exact";
  const widenable = ruleText({ id: 'w', category: 'tool_call', detection });

  it('is off by default: the rule is refused for its automaton', () => {
    const result = exportTexts([widenable]);
    expect(result.rules).toEqual([]);
    expect(result.widened).toEqual([]);
    expect(result.skipped[0]?.reason).toMatch(/deterministic automaton of more than 2000 states/);
  });

  it('exports the rule with the gap unbounded, tagged, saying which bound it widened', () => {
    const other = ruleText({ id: 'x', category: 'tool_call', detection: 'sel:\n    mcp.message.size|gt: 10\ncondition: sel' });
    const result = exportKibanaRules([{ path: 'rules/r0.yml', text: widenable }, { path: 'rules/r1.yml', text: other }], { allowWidened: true });
    expect(result.skipped).toEqual([]);
    expect(result.errors).toEqual([]);
    const [rule, exact] = result.rules as [KibanaRule, KibanaRule];
    // [^\n]{0,512} as [^\n]*, anchored at the value's start; the climbs and the rest of the rule as they are.
    expect(rule.query).toBe(`${TOOL_CALL} AND (gen_ai.tool.call.arguments:/[^\\\n]*(\\.\\.[\\/\\\\]){3,}.*/ OR mcp.message.size:>5)`);
    expect(rule.tags).toEqual(['tapwire.category.tool_poisoning', 'Tapwire', 'tapwire:widened']);
    expect(rule.description).toBe(
      'Test rule\n\nWidened export (tapwire rules export --allow-widened), NOT identical to the Tapwire rule: this query alerts on every event the rule alerts on, and also on events where these bounded repeats run past their bounds: regex of line 11: [^\\n]{0,512} widened to unbounded [^\\n]*.',
    );
    expect(result.widened).toEqual([
      {
        file: 'rules/r0.yml',
        line: 11,
        id: 'w',
        title: 'Test rule',
        widenings: [{ field: 'gen_ai.tool.call.arguments', line: 11, pattern: '^[^\\n]{0,512}(?:\\.\\.[/\\\\]){3,}', widenedPattern: '^[^\\n]*(?:\\.\\.[/\\\\]){3,}', repeats: [{ bound: '[^\\n]{0,512}', widened: '[^\\n]*' }] }],
      },
    ]);
    // A rule the exact export takes is exported exactly, untagged.
    expect(exact).toMatchObject({ rule_id: 'x', description: 'Test rule', tags: ['tapwire.category.tool_poisoning', 'Tapwire'] });
    for (const line of kibanaNdjson(result.rules).trimEnd().split('\n')) expect(kibanaImportProblems(line)).toEqual([]);
  });

  it('still refuses a rule for any other reason, and one whose automaton no widening brings under the bound', () => {
    const skipped = (d: string): string => {
      const result = exportKibanaRules([{ path: 'rules/r0.yml', text: ruleText({ id: 's', category: 'tool_call', detection: d }) }], { allowWidened: true });
      expect(result.errors).toEqual([]);
      return result.skipped[0]?.reason ?? '(exported)';
    };
    expect(skipped("sel:\n    gen_ai.tool.name|re: '(?:\\bx)+'\ncondition: sel")).toMatch(/inside a repetition/);
    // Repeated groups, not classes: nothing to widen.
    expect(skipped("sel:\n    gen_ai.tool.call.arguments|re: '^(?:ab){0,1000}(?:cd){0,1000}e'\ncondition: sel")).toMatch(/more than 2000 states.*; nor does widening its bounded repeats of a character class/);
  });
});

describe('the shipped pack', () => {
  it('exports every alerting rule or lists it with a reason, each line importable', () => {
    const files = findRuleFiles(join(packageRoot(), 'rules'));
    const result = exportKibanaRules(files.map((path) => ({ path, text: readFileSync(path, 'utf8') })));
    expect(result.errors.map((e) => e.message)).toEqual([]);
    for (const line of kibanaNdjson(result.rules).trimEnd().split('\n').filter((l) => l !== '')) expect(kibanaImportProblems(line)).toEqual([]);
    for (const skipped of result.skipped) expect(skipped.reason).not.toBe('');
    expect(new Set(result.rules.map((r) => r.rule_id)).size).toBe(result.rules.length);
    // Counting the automata of the pack's regexes takes about 10 s of one core: far longer on a loaded machine.
  }, 600_000);
});
