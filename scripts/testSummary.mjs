// Prints "tests: N passed, N failed, N skipped" from vitest's JSON report (CI writes it), preceded by the same
// count for the real-engine tests: those of every test file that imports test/support/realEngines.ts.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file || !existsSync(file)) {
  console.log(`tests: no report at ${file}`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const usesRealEngines = (path) => existsSync(path) && /support\/realEngines\.js['"]/.test(readFileSync(path, 'utf8'));
const real = { passed: 0, failed: 0, skipped: 0, files: 0 };
for (const result of report.testResults ?? []) {
  if (!usesRealEngines(result.name)) continue;
  real.files++;
  // A file that failed before its tests ran (e.g. an engine missing in CI) has no assertion results: count it failed.
  if ((result.assertionResults ?? []).length === 0 && result.status === 'failed') real.failed++;
  for (const test of result.assertionResults ?? []) {
    if (test.status === 'passed') real.passed++;
    else if (test.status === 'failed') real.failed++;
    else real.skipped++;
  }
}
console.log(`real-engine tests (Kafka, Elasticsearch; ${real.files} files): ${real.passed} passed, ${real.failed} failed, ${real.skipped} skipped`);
// Files that failed before any test ran count as one failure each, so the closing line never reads "0 failed" then.
const unloaded = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests + unloaded} failed, ${report.numPendingTests + (report.numTodoTests ?? 0)} skipped`);
