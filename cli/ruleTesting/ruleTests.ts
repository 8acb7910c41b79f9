/**
 * Runs the tests beside every rule of a rule directory: each case's transcript goes through the normalizer
 * into events, the events through an engine holding only that file's rules, and the alerts are checked
 * against the case. Every rule must be shown both matching and not matching. Failures read FILE:LINE: message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { TranscriptError } from '../../collectors/transcriptReader.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { CompiledRule } from '../../detectors/sigma/compiledRule.js';
import { compileRules } from '../../detectors/sigma/ruleCompiler.js';
import { RuleEngine } from '../../detectors/sigma/ruleEngine.js';
import { parseRuleTestFile, type RuleTestCase } from './ruleTestFile.js';
import { findRuleFiles, isRuleTestFile, testFilePathFor, yamlFilesUnder } from '../../detectors/sigma/ruleFiles.js';
import { transcriptEvents } from './transcriptEvents.js';

/** One failed check, located in a rule or test file. */
export interface RuleTestFailure {
  file: string;
  line: number;
  message: string;
}

/** The outcome for one rule file and its tests. */
export interface RuleFileResult {
  ruleFile: string;
  testFile: string;
  /** Rules the file holds (accepted by the compiler). */
  rules: number;
  /** Test cases run. */
  cases: number;
  failures: RuleTestFailure[];
}

/** The outcome for a whole directory. */
export interface RuleTestRun {
  files: RuleFileResult[];
  cases: number;
  failures: RuleTestFailure[];
}

/** Hooks into a run (progress reporting). */
export interface RuleTestOptions {
  /** Called after each rule file, with how many of `total` are done. */
  onFile?: (result: RuleFileResult, done: number, total: number) => void;
}


/** Every file under `dir` (recursively, sorted) whose name ends in .yml or .yaml. */


const describeAlert = (alert: McpAlert): string => {
  const matched = (alert.alert.matched ?? []).map((m) => (m.value === undefined ? m.field : `${m.field}=${JSON.stringify(m.value.slice(0, 80))}`));
  return `'${alert.rule.name}'${matched.length > 0 ? ` (${matched.join(', ')})` : ''}`;
};

const describeEvents = (events: readonly McpEvent[]): string => events.map((e) => `${e.event.action}/${e.mcp.message?.kind ?? 'lifecycle'}`).join(', ');

/** The rules of a file a case is about: the one it names, else all of them. */
export function ruleTestTargets(rules: readonly CompiledRule[], testCase: RuleTestCase): CompiledRule[] {
  return testCase.rule === undefined ? [...rules] : rules.filter((r) => r.meta.id === testCase.rule || r.meta.name === testCase.rule);
}

/**
 * A case's events, and the alerts of `targets` that an engine holding `rules` (the rule file's) raises on them.
 * Throws TranscriptError for a transcript line that is not a valid record.
 */
export function runRuleTestCase(testFile: string, testCase: RuleTestCase, rules: readonly CompiledRule[], targets: readonly CompiledRule[]): { events: McpEvent[]; alerts: McpAlert[] } {
  const events = transcriptEvents(testFile, testCase.transcript, { redact: testCase.redact });
  const engine = new RuleEngine(rules);
  const ids = new Set(targets.map((r) => r.meta.id));
  return { events, alerts: [...events.flatMap((e) => engine.evaluate(e)), ...engine.flush()].filter((a) => ids.has(a.rule.id)) };
}

/** Runs the cases of one rule file against its rules. */
class RuleFileTester {
  readonly failures: RuleTestFailure[] = [];
  /** Rules shown matching / not matching by a passing case. */
  private readonly matched = new Set<CompiledRule>();
  private readonly unmatched = new Set<CompiledRule>();

  constructor(
    private readonly ruleFile: string,
    private readonly rules: readonly CompiledRule[],
  ) {}

  private fail(file: string, line: number, message: string): void {
    this.failures.push({ file, line, message });
  }

  /** Runs one case; records failures and which rules it exercised. */
  run(testFile: string, testCase: RuleTestCase): void {
    const targets = ruleTestTargets(this.rules, testCase);
    if (targets.length === 0) {
      this.fail(testFile, testCase.line, `test '${testCase.name}': rule '${testCase.rule}' is not a rule of ${this.ruleFile}`);
      return;
    }
    let events: McpEvent[];
    let alerts: McpAlert[];
    try {
      ({ events, alerts } = runRuleTestCase(testFile, testCase, this.rules, targets));
    } catch (error) {
      if (!(error instanceof TranscriptError)) throw error;
      this.fail(error.file, error.line, `test '${testCase.name}': ${error.field === '' ? error.detail : `field '${error.field}': ${error.detail}`}`);
      return;
    }
    if (testCase.expect === 'no_match') {
      if (alerts.length > 0) this.fail(testFile, testCase.line, `test '${testCase.name}': expected no match, but ${describeAlert(alerts[0] as McpAlert)} matched`);
      else for (const rule of targets) this.unmatched.add(rule);
      return;
    }
    if (alerts.length === 0) {
      this.fail(testFile, testCase.line, `test '${testCase.name}': expected a match, got none (events: ${describeEvents(events) || 'none'})`);
      return;
    }
    const shows = testCase.shows;
    if (shows !== undefined && !alerts.some((a) => (a.alert.matched ?? []).some((m) => m.value?.includes(shows)))) {
      this.fail(testFile, testCase.line, `test '${testCase.name}': no matched value shows ${JSON.stringify(shows)}; got ${alerts.map(describeAlert).join('; ')}`);
      return;
    }
    for (const rule of targets) if (alerts.some((a) => a.rule.id === rule.meta.id)) this.matched.add(rule);
  }

  /** Fails every alerting rule not shown both matching and not matching. */
  checkCoverage(testFile: string): void {
    for (const rule of this.rules) {
      if (!rule.alerts) continue;
      const { file, line } = rule.meta.location;
      if (!this.matched.has(rule)) this.fail(file, line, `rule '${rule.meta.title}' has no passing 'expect: match' case in ${testFile}`);
      if (!this.unmatched.has(rule)) this.fail(file, line, `rule '${rule.meta.title}' has no passing 'expect: no_match' case in ${testFile}`);
    }
  }
}

function testRuleFile(ruleFile: string, rules: readonly CompiledRule[], compileFailures: readonly RuleTestFailure[]): RuleFileResult {
  const testFile = testFilePathFor(ruleFile);
  const result: RuleFileResult = { ruleFile, testFile, rules: rules.length, cases: 0, failures: [...compileFailures] };
  if (rules.length === 0) {
    if (compileFailures.length === 0) result.failures.push({ file: ruleFile, line: 1, message: 'the file holds no rule' });
    return result;
  }
  if (!existsSync(testFile)) {
    result.failures.push({ file: ruleFile, line: 1, message: `no tests: write ${testFile} beside the rule (match and no_match cases)` });
    return result;
  }
  const parsed = parseRuleTestFile(testFile, readFileSync(testFile, 'utf8'));
  for (const error of parsed.errors) result.failures.push({ file: error.file, line: error.line, message: error.detail });
  const tester = new RuleFileTester(ruleFile, rules);
  for (const testCase of parsed.cases) tester.run(testFile, testCase);
  tester.checkCoverage(testFile);
  result.cases = parsed.cases.length;
  result.failures.push(...tester.failures);
  return result;
}

/** Compiles every rule under `dir` together (so correlations may span files) and runs each file's tests. */
export function runRuleTests(dir: string, options: RuleTestOptions = {}): RuleTestRun {
  if (!existsSync(dir)) throw new Error(`rule directory ${dir} does not exist`);
  const ruleFiles = findRuleFiles(dir);
  const { rules, errors } = compileRules(ruleFiles.map((path) => ({ path, text: readFileSync(path, 'utf8') })));
  const run: RuleTestRun = { files: [], cases: 0, failures: [] };
  const known = new Set(ruleFiles);
  for (const testFile of yamlFilesUnder(dir).filter(isRuleTestFile)) {
    if (!known.has(testFile.replace(/\.tests(\.ya?ml)$/, '$1'))) run.failures.push({ file: testFile, line: 1, message: 'test file without a rule file beside it' });
  }
  ruleFiles.forEach((ruleFile, index) => {
    const compileFailures = errors.filter((e) => e.file === ruleFile).map((e) => ({ file: e.file, line: e.line, message: e.detail }));
    const result = testRuleFile(
      ruleFile,
      rules.filter((r) => r.meta.location.file === ruleFile),
      compileFailures,
    );
    run.files.push(result);
    run.cases += result.cases;
    run.failures.push(...result.failures);
    options.onFile?.(result, index + 1, ruleFiles.length);
  });
  return run;
}
