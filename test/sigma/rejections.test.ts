/** Rules using anything unsupported are rejected whole, with FILE:LINE errors; other rules are kept. */
import { describe, expect, it } from 'vitest';
import { compileRules } from '../../detectors/sigma/index.js';
import { compileErrors, dedent, ruleText } from './ruleHarness.js';

/** The single error a rule with this detection block produces (detection starts at line 9 of ruleText). */
function detectionError(detection: string, options = {}): string {
  const errors = compileErrors(ruleText({ category: 'tool_call', detection }), options);
  expect(errors).toHaveLength(1);
  return errors[0] as string;
}

describe('rejected detections', () => {
  it.each([
    ['selection:\n    gen_ai.tool.name|foo: x\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.name': unknown modifier 'foo' (known: "],
    ['selection:\n    gen_ai.tool.name|contains|contains: x\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.name': modifier 'contains' appears twice"],
    ['selection:\n    gen_ai.tool.name|i: x\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.name': 'i' is a sub-modifier of re and must follow it"],
    ['selection:\n    gen_ai.tool.name|re|contains: x\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.name': modifier 'contains' cannot be used with 're'"],
    ['selection:\n    gen_ai.tool.name|cased|re: x\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.name': cased has no effect with re"],
    ['selection:\n    gen_ai.tool.name|cidr|re: x\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.name': modifiers cidr and re cannot be combined"],
    ['selection:\n    gen_ai.tool.name|exists: yes-please\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.name': 'exists' takes exactly one value, true or false"],
    ["selection:\n    gen_ai.tool.call.arguments.size|gt: '10'\ncondition: selection", "rules/test.yml:11: field 'gen_ai.tool.call.arguments.size': '10' must be a number for 'gt'"],
    ['selection:\n    gen_ai.tool.call.arguments.size|gt|lt: 10\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.call.arguments.size': only one of lt, lte, gt, gte may be used"],
    ['selection:\n    gen_ai.tool.name|contains|all: x\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.name': 'all' needs a list of at least two values"],
    ["selection:\n    gen_ai.tool.name|cidr: '10.0.0.0/33'\ncondition: selection", "rules/test.yml:11: field 'gen_ai.tool.name': '10.0.0.0/33' is not an IPv4 or IPv6 CIDR network"],
    ['selection:\n    gen_ai.tool.name|base64offset: x\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.name': base64offset must be followed by 'contains'"],
    ["selection:\n    gen_ai.tool.name|contains|base64: x\ncondition: selection", "rules/test.yml:11: field 'gen_ai.tool.name': base64 cannot encode a value with wildcards"],
    ["selection:\n    gen_ai.tool.name|expand: '%nowhere%'\ncondition: selection", "rules/test.yml:11: field 'gen_ai.tool.name': placeholder %nowhere% has no values"],
    ['selection:\n    gen_ai.tool.name|contains: null\ncondition: selection', "rules/test.yml:11: field 'gen_ai.tool.name': null matches a missing or null field and takes no modifiers"],
    ["selection:\n    gen_ai..name: x\ncondition: selection", "rules/test.yml:11: field 'gen_ai..name': field name 'gen_ai..name' has an empty segment"],
    ["selection:\n    gen_ai.tool.name|fieldref: 'a*'\ncondition: selection", "rules/test.yml:11: field 'gen_ai.tool.name': 'fieldref' needs a field name, not 'a*'"],
    ["keywords:\n    '|startswith': x\ncondition: keywords", "rules/test.yml:11: keyword value: modifier 'startswith' needs a field"],
    ['keywords:\n    - null\ncondition: keywords', 'rules/test.yml:11: keyword value: null matches a missing or null field'],
    ['selection:\n    - gen_ai.tool.name: x\n    - plain\ncondition: selection', "rules/test.yml:10: search identifier 'selection' mixes maps and plain values in one list"],
    ['selection:\n    gen_ai.tool.name:\n        nested: map\ncondition: selection', "rules/test.yml:12: field 'gen_ai.tool.name': a value must be a scalar or a list of scalars, not a map"],
    ['selection:\ncondition: selection', "rules/test.yml:10: search identifier 'selection' is empty"],
    ['and:\n    gen_ai.tool.name: x\ncondition: and', "rules/test.yml:10: 'and' cannot name a search identifier"],
    ['selection:\n    gen_ai.tool.name: x', 'rules/test.yml:10: detection.condition is required'],
    ['selection:\n    gen_ai.tool.name: x\ntimeframe: 5m\ncondition: selection', 'rules/test.yml:12: detection.timeframe is Sigma v1 aggregation'],
  ])('%#: %s', (detection, expected) => {
    expect(detectionError(detection)).toContain(expected);
  });

  it.each([
    ["selection:\n    gen_ai.tool.name|re: '(a+)+$'\ncondition: selection", 'nested unbounded quantifier at offset 4'],
    ["selection:\n    gen_ai.tool.name|re: '(\\w+\\s?)*$'\ncondition: selection", 'nested unbounded quantifier'],
    ["selection:\n    gen_ai.tool.name|re: '(x)\\1'\ncondition: selection", 'backreference \\1'],
    ["selection:\n    gen_ai.tool.name|re: 'a(?=b)'\ncondition: selection", 'lookaround at offset 1'],
    ["selection:\n    gen_ai.tool.name|re: '[unclosed'\ncondition: selection", "regular expression '[unclosed' is invalid"],
  ])('unsafe or invalid regex %#', (detection, reason) => {
    const message = detectionError(detection);
    expect(message).toMatch(/^rules\/test\.yml:11: field 'gen_ai\.tool\.name': regular expression /);
    expect(message).toContain(reason);
  });

  it.each([
    ['selection | count() > 5', "aggregation expressions ('| count() ...') are Sigma v1 and unsupported; write a correlation rule at column 11"],
    ['selection and', "expected a search identifier, 'not', '1 of', 'all of' or '(' but found 'end of condition' at column 14"],
    ['selection near other', "unexpected 'near' at column 11"],
    ['2 of sel*', "only '1 of' and 'all of' are supported, not '2 of' at column 1"],
    ['1 of filter*', "'1 of filter*' matches no search identifier at column 6"],
    ['selection and missing', "unknown search identifier 'missing' at column 15"],
    ['sel*', "the pattern 'sel*' needs '1 of' or 'all of' before it at column 1"],
    ['(selection', "expected ')' but found 'end of condition' at column 11"],
    ['selection)', "unexpected ')' at column 10"],
    ['selection & other', "unexpected character '&' at column 11"],
  ])('condition %s', (condition, expected) => {
    expect(detectionError(`selection:\n    gen_ai.tool.name: x\ncondition: '${condition}'`)).toBe(`rules/test.yml:12: condition '${condition}': ${expected}`);
  });
});

describe('rejected rule metadata', () => {
  const rule = (text: string): string[] => compileErrors(dedent(text));

  it('names the line of an unknown log source', () => {
    const base = `
      title: t
      id: r1
      level: high
      tags: [tapwire.category.protocol]
      logsource:
          product: PRODUCT
          CATEGORY
      detection:
          sel:
              mcp.method.name: ping
          condition: sel
    `;
    expect(rule(base.replace('PRODUCT', 'windows').replace('CATEGORY', ''))).toEqual(["rules/test.yml:6: logsource.product must be 'mcp', not 'windows'"]);
    expect(rule(base.replace('PRODUCT', 'mcp').replace('CATEGORY', 'category: process_creation'))[0]).toMatch(/^rules\/test\.yml:7: unknown logsource.category 'process_creation' for product mcp \(tool_list, tool_call, /);
    expect(rule(base.replace('PRODUCT', 'mcp').replace('CATEGORY', 'service: sshd'))).toEqual(['rules/test.yml:7: logsource.service is not supported for product mcp']);
  });

  it('requires exactly one valid category tag on a rule that alerts', () => {
    expect(compileErrors(ruleText({ category: 'tool_call', tags: [], detection: 'sel:\n    gen_ai.tool.name: x\ncondition: sel' }))[0]).toMatch(
      /^rules\/test\.yml:1: rule 'Test rule' produces alerts, so it needs exactly one tapwire\.category\.<name> tag \(tool_poisoning, tool_drift, /,
    );
    expect(compileErrors(ruleText({ tags: ['tapwire.category.tool_poisoning', 'tapwire.category.ssrf'], detection: 'sel:\n    gen_ai.tool.name: x\ncondition: sel' }))).toEqual([
      'rules/test.yml:4: a rule has exactly one tapwire.category.* tag, found 2',
    ]);
    expect(compileErrors(ruleText({ tags: ['tapwire.category.phishing'], detection: 'sel:\n    gen_ai.tool.name: x\ncondition: sel' }))[0]).toMatch(
      /^rules\/test\.yml:4: unknown category tag tapwire\.category\.phishing/,
    );
  });

  it('reports YAML errors with their line, and keeps the other documents', () => {
    const text = `${ruleText({ id: 'good-1', detection: 'sel:\n    gen_ai.tool.name: x\ncondition: sel' })}---\ntitle: broken\nid: [unclosed\n---\n${ruleText({ id: 'good-2', detection: 'sel:\n    gen_ai.tool.name: y\ncondition: sel' })}`;
    const { rules, errors } = compileRules([{ path: 'rules/multi.yml', text }]);
    expect(rules.map((r) => r.meta.id)).toEqual(['good-1', 'good-2']);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/^rules\/multi\.yml:1[56]: YAML: /);
  });

  it('rejects duplicate keys, duplicate ids and Sigma v1 collections', () => {
    expect(rule('title: a\ntitle: b\n')[0]).toMatch(/^rules\/test\.yml:2: YAML: Map keys must be unique/);
    const twice = `${ruleText({ id: 'same', detection: 'sel:\n    gen_ai.tool.name: x\ncondition: sel' })}---\n${ruleText({ id: 'same', detection: 'sel:\n    gen_ai.tool.name: y\ncondition: sel' })}`;
    expect(compileErrors(twice)).toEqual(["rules/test.yml:13: rule id or name 'same' is already used by another rule"]);
    expect(rule('action: global\ntitle: x\n')).toEqual(['rules/test.yml:1: action (Sigma v1 rule collections) is not supported']);
    expect(rule('title: x\nid: y\n')).toEqual(['rules/test.yml:1: a rule document needs exactly one of detection or correlation']);
  });

  it('never keeps half of a rule', () => {
    const text = ruleText({ detection: "ok:\n    gen_ai.tool.name: x\nbad:\n    gen_ai.tool.name|nosuch: y\ncondition: ok or bad" });
    const { rules, errors } = compileRules([{ path: 'rules/test.yml', text }]);
    expect(rules).toEqual([]);
    expect(errors.map((e) => e.line)).toEqual([12]);
  });
});

describe('rejected correlations', () => {
  const base = ruleText({ id: 'base-1', detection: 'sel:\n    gen_ai.tool.name: x\ncondition: sel' });
  const correlation = (body: string): string[] =>
    compileErrors(`${base}---\ntitle: corr\nid: corr-1\nlevel: high\ntags: [tapwire.category.anomalous_tool_use]\ncorrelation:\n${dedent(body).replace(/^/gm, '    ')}\n`);

  it.each([
    ['type: value_sum\nrules: [base-1]\ntimespan: 1m\ncondition: {gte: 2}', 'rules/test.yml:18: correlation.type \'value_sum\' is not one of event_count, value_count, temporal, temporal_ordered'],
    ['type: event_count\nrules: [nowhere]\ntimespan: 1m\ncondition: {gte: 2}', "rules/test.yml:19: correlation references rule 'nowhere', which is not defined"],
    ['type: event_count\nrules: [base-1]\ntimespan: 1w\ncondition: {gte: 2}', "rules/test.yml:20: correlation.timespan is required as a positive number and a unit s, m, h or d (e.g. '90m')"],
    ['type: event_count\nrules: [base-1]\ntimespan: 1m', 'rules/test.yml:18: correlation.condition with gt, gte, lt, lte or eq is required for event_count'],
    ['type: value_count\nrules: [base-1]\ntimespan: 1m\ncondition: {gte: 2}', 'rules/test.yml:21: value_count needs correlation.condition.field'],
    ['type: event_count\nrules: [base-1]\ntimespan: 1m\ncondition: {gte: 5, lt: 3}', 'rules/test.yml:21: correlation.condition can never hold'],
    ['type: event_count\nrules: [base-1]\ntimespan: 1m\ncondition: {gte: 5000}', 'rules/test.yml:13: correlation.condition counts up to 5000, above the engine\'s maxEventsPerGroup (1000)'],
    ['type: event_count\nrules: [base-1]\ntimespan: 1m\ncondition: {gte: 2}\nwindow: 5', 'rules/test.yml:22: correlation.window is not supported'],
    ['type: temporal\nrules: [base-1]\ntimespan: 1m', 'rules/test.yml:19: temporal needs at least two rules'],
    ['type: event_count\nrules: [base-1]\ntimespan: 1m\ncondition: {gte: 2}\naliases:\n    a: {other: f}', "rules/test.yml:13: alias 'a' maps rule 'other', which the correlation does not reference"],
  ])('%#', (body, expected) => {
    expect(correlation(body)[0]).toContain(expected);
  });

  it('rejects temporal_ordered upper bounds and cycles', () => {
    const ordered = compileErrors(`${base}---\n${ruleText({ id: 'base-2', detection: 'sel:\n    gen_ai.tool.name: y\ncondition: sel' })}---\ntitle: c\nid: c1\nlevel: high\ntags: [tapwire.category.anomalous_tool_use]\ncorrelation:\n    type: temporal_ordered\n    rules: [base-1, base-2]\n    timespan: 1m\n    condition: {lte: 2}\n`);
    expect(ordered).toEqual(['rules/test.yml:33: temporal_ordered supports only gt and gte conditions']);
    const cycle = compileErrors(
      'title: a\nid: a\nlevel: high\ntags: [tapwire.category.protocol]\ncorrelation:\n    type: event_count\n    rules: [b]\n    timespan: 1m\n    condition: {gte: 2}\n---\ntitle: b\nid: b\nlevel: high\ntags: [tapwire.category.protocol]\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 2}\n',
    );
    expect(cycle).toContain("rules/test.yml:17: correlation rules form a cycle through 'a'");
  });
});
