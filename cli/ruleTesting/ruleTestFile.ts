/**
 * The test file beside a rule: `<rule>.tests.yml` next to `<rule>.yml`. It lists cases, each a transcript in
 * the docs/ARCHITECTURE.md record format and whether the rule must match it:
 *
 *   tests:
 *     - name: <IMPORTANT> block in a tool description
 *       expect: match                # or no_match
 *       rule: <id or name>           # optional: which rule of the file (default: any)
 *       shows: text                  # optional: an alert's matched value must contain this
 *       redact: false                # optional: skip the collector's redaction (a producer that does not redact)
 *       transcript:
 *         - {server: notes, direction: client_to_server, message: {jsonrpc: "2.0", id: 1, method: tools/list}}
 *         - {server: notes, direction: server_to_client, message: {jsonrpc: "2.0", id: 1, result: {tools: []}}}
 *
 * Every problem is reported as FILE:LINE, and a bad case never costs the good ones.
 */
import { parseYamlDocuments, type YamlEntry, type YamlMapNode, type YamlNode } from '../../detectors/sigma/positionedYaml.js';
import { SigmaRuleError } from '../../detectors/sigma/ruleError.js';
import type { TranscriptLine } from './transcriptEvents.js';
import { plainYamlValue } from './yamlValue.js';

/** Whether a case's transcript must raise an alert of the rule. */
export type RuleTestExpectation = 'match' | 'no_match';

/** One test case of a rule file. */
export interface RuleTestCase {
  name: string;
  /** Where the case starts in the test file. */
  line: number;
  expect: RuleTestExpectation;
  /** The id or name of the rule that must (not) match; any rule of the file when absent. */
  rule?: string;
  /** Text one of the alert's matched values must contain. */
  shows?: string;
  redact: boolean;
  transcript: TranscriptLine[];
}

/** A parsed test file: its accepted cases and one error per rejected case (or for the file). */
export interface RuleTestFile {
  file: string;
  cases: RuleTestCase[];
  errors: SigmaRuleError[];
}



const CASE_KEYS = new Set(['name', 'expect', 'rule', 'shows', 'redact', 'transcript']);
const EXPECTATIONS: readonly RuleTestExpectation[] = ['match', 'no_match'];


class CaseReader {
  constructor(private readonly file: string) {}

  fail(line: number, message: string): never {
    throw new SigmaRuleError(this.file, line, message);
  }

  entry(map: YamlMapNode, key: string): YamlEntry | undefined {
    return map.entries.find((e) => e.key === key);
  }

  text(map: YamlMapNode, key: string, required: boolean): string | undefined {
    const entry = this.entry(map, key);
    if (!entry) return required ? this.fail(map.line, `test case: '${key}' is required`) : undefined;
    if (entry.value.kind !== 'scalar' || typeof entry.value.value !== 'string' || entry.value.value === '') this.fail(entry.line, `test case: '${key}' must be a non-empty string`);
    return entry.value.value;
  }

  /** Reads one case; throws SigmaRuleError for the first problem in it. */
  read(node: YamlNode): RuleTestCase {
    if (node.kind !== 'map') this.fail(node.line, 'a test case must be a map (name, expect, transcript)');
    const unknown = node.entries.find((e) => !CASE_KEYS.has(e.key));
    if (unknown) this.fail(unknown.line, `test case: unknown key '${unknown.key}' (${[...CASE_KEYS].join(', ')})`);
    const name = this.text(node, 'name', true) as string;
    const expect = this.text(node, 'expect', true) as RuleTestExpectation;
    if (!EXPECTATIONS.includes(expect)) this.fail(this.entry(node, 'expect')?.line ?? node.line, `test case '${name}': expect must be match or no_match, not '${expect}'`);
    const redactEntry = this.entry(node, 'redact');
    if (redactEntry && (redactEntry.value.kind !== 'scalar' || typeof redactEntry.value.value !== 'boolean')) this.fail(redactEntry.line, `test case '${name}': redact must be true or false`);
    const transcriptEntry = this.entry(node, 'transcript');
    if (!transcriptEntry) this.fail(node.line, `test case '${name}': 'transcript' is required (a list of transcript records)`);
    const records = transcriptEntry.value;
    if (records.kind !== 'seq' || records.items.length === 0) this.fail(transcriptEntry.line, `test case '${name}': transcript must be a non-empty list of transcript records`);
    const testCase: RuleTestCase = {
      name,
      line: node.line,
      expect,
      redact: redactEntry?.value.kind === 'scalar' ? redactEntry.value.value !== false : true,
      transcript: records.items.map((item) => ({ value: plainYamlValue(item), line: item.line })),
    };
    const rule = this.text(node, 'rule', false);
    if (rule !== undefined) testCase.rule = rule;
    const shows = this.text(node, 'shows', false);
    if (shows !== undefined) testCase.shows = shows;
    return testCase;
  }
}

/** Parses a rule test file's text; `file` is the path errors name. */
export function parseRuleTestFile(file: string, text: string): RuleTestFile {
  const { documents, errors } = parseYamlDocuments(file, text);
  const result: RuleTestFile = { file, cases: [], errors: [...errors] };
  if (documents.length !== 1) {
    if (errors.length === 0) result.errors.push(new SigmaRuleError(file, documents[1]?.line ?? 1, `a test file holds exactly one YAML document (found ${documents.length})`));
    return result;
  }
  const root = (documents[0] as { root: YamlNode }).root;
  const reader: CaseReader = new CaseReader(file);
  try {
    if (root.kind !== 'map') reader.fail(root.line, "a test file is a map with one key, 'tests'");
    const extra = root.entries.find((e) => e.key !== 'tests');
    if (extra) reader.fail(extra.line, `unknown key '${extra.key}' (a test file has one key, 'tests')`);
    const tests = reader.entry(root, 'tests');
    if (!tests || tests.value.kind !== 'seq') reader.fail(tests?.line ?? root.line, "'tests' must be a list of test cases");
    for (const item of tests.value.items) {
      try {
        result.cases.push(reader.read(item));
      } catch (error) {
        if (!(error instanceof SigmaRuleError)) throw error;
        result.errors.push(error);
      }
    }
  } catch (error) {
    if (!(error instanceof SigmaRuleError)) throw error;
    result.errors.push(error);
  }
  return result;
}
