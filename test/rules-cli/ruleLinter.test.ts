/** `tapwire rules lint` checks: the engine's own errors, Tapwire's required metadata and the semantic warnings. */
import { describe, expect, it } from 'vitest';
import { formatLintFinding, lintRuleSources } from '../../detectors/sigma/ruleLinter.js';
import { completeRule } from './lintFixtures.js';

const lint = (texts: Record<string, string>): string[] => lintRuleSources(Object.entries(texts).map(([path, text]) => ({ path, text }))).map(formatLintFinding);

describe('lintRuleSources', () => {
  it('passes a complete rule', () => {
    expect(lint({ 'rules/a.yml': completeRule() })).toEqual([]);
  });

  it('requires the metadata a shipped rule carries, each reported at its line', () => {
    const text = completeRule({
      id: 'id: read-file',
      description: null,
      status: null,
      author: null,
      date: 'date: 2025/06/01',
      references: 'references: []',
      falsepositives: null,
      tags: 'tags: [atlas.aml.t0053, Bad_Tag]',
    });
    const findings = lint({ 'rules/a.yml': text });
    expect(findings.filter((f) => !f.includes('produces alerts'))).toEqual([
      'rules/a.yml:1: error: author is required',
      'rules/a.yml:1: error: description is required',
      'rules/a.yml:1: error: falsepositives must list at least one entry',
      'rules/a.yml:1: error: status is required',
      "rules/a.yml:2: error: id 'read-file' is not a UUID",
      'rules/a.yml:3: error: references must list at least one entry',
      "rules/a.yml:4: error: date '2025/06/01' is not a date written YYYY-MM-DD",
      "rules/a.yml:5: warning: tag 'Bad_Tag' is not of the form namespace.name in lower case",
    ]);
    // The missing category tag is the engine's own error (it would not run the rule), reported once.
    expect(findings.filter((f) => f.includes('tapwire.category'))).toEqual([expect.stringMatching(/^rules\/a\.yml:1: error: rule 'Reads a file' produces alerts, so it needs exactly one tapwire\.category\.<name> tag/)]);
  });

  it('reports a category tag missing from a rule that only feeds a correlation', () => {
    const correlation = completeRule({ id: 'id: 0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b', logsource: null }, ['    placeholder: x']).replace(
      /detection:\n {4}placeholder: x\n/,
      'correlation:\n    type: event_count\n    rules: [6b1e4f6a-3c2d-4b5e-9f8a-7d6c5b4a3e2f]\n    timespan: 1h\n    condition: {gte: 5}\n',
    );
    const base = completeRule({ tags: 'tags: [atlas.aml.t0053]' });
    expect(lint({ 'rules/corr.yml': correlation, 'rules/base.yml': base })).toEqual(['rules/base.yml:8: error: tags must include exactly one tapwire.category.<category> tag']);
  });

  it('warns about a rule without a logsource category and about keys that are not Sigma fields', () => {
    expect(lint({ 'rules/a.yml': completeRule({ logsource: 'logsource: {product: mcp}', falsepositives: 'falsepositive: [Editors]' }) })).toEqual([
      'rules/a.yml:1: error: falsepositives must list at least one entry',
      'rules/a.yml:9: warning: no logsource.category: the rule runs on every event',
      "rules/a.yml:10: warning: 'falsepositive' is not a Sigma rule field (misspelt?)",
    ]);
  });

  it('warns about unused search identifiers and field names outside the event schema', () => {
    const detection = [
      '    sel:',
      '        gen_ai.tool.nmae: read_file',
      '        gen_ai.tool.call.arguments.any_argument: x',
      '        mcp.text.descriptions|contains: x',
      '        mcp.server.name|fieldref: mcp.clinet.name',
      '    other:',
      '        mcp.server.name: x',
      '    _filter:',
      '        mcp.server.name: y',
      '    condition: 1 of them',
    ];
    expect(lint({ 'rules/a.yml': completeRule({}, detection) })).toEqual([
      expect.stringMatching(/^rules\/a\.yml:14: warning: field 'gen_ai\.tool\.nmae' is not in the event schema or the derived fields \(mcp\.text\.descriptions, mcp\.text\.result/),
      expect.stringMatching(/^rules\/a\.yml:17: warning: field 'mcp\.clinet\.name' is not in the event schema/),
      "rules/a.yml:20: warning: search identifier '_filter' is not used by the condition",
    ]);
  });

  it("reports the engine's errors: conditions, unsafe regexes, YAML, duplicate ids across files", () => {
    expect(lint({ 'rules/a.yml': completeRule({}, ['    sel:', '        gen_ai.tool.name: x', '    condition: sel and other']) })).toEqual([
      "rules/a.yml:15: error: condition 'sel and other': unknown search identifier 'other' at column 9",
    ]);
    expect(lint({ 'rules/a.yml': completeRule({}, ['    sel:', "        gen_ai.tool.name|re: '(a+)+$'", '    condition: sel']) })).toEqual([
      expect.stringMatching(/^rules\/a\.yml:14: error: field 'gen_ai\.tool\.name': regular expression '\(a\+\)\+\$' is refused: nested unbounded quantifier/),
    ]);
    expect(lint({ 'rules/a.yml': `${completeRule()}  bad: [unclosed\n` })).toEqual([expect.stringMatching(/^rules\/a\.yml:\d+: error: YAML: /)]);
    expect(lint({ 'rules/a.yml': completeRule(), 'rules/b.yml': completeRule({ title: 'title: Another' }) })).toEqual([
      "rules/b.yml:1: error: rule id or name '6b1e4f6a-3c2d-4b5e-9f8a-7d6c5b4a3e2f' is already used by another rule",
    ]);
  });
});
