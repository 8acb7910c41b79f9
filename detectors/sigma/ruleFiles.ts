/** Where rules live on disk: which YAML files under a directory are rules, and which are their tests. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const RULE_FILE = /\.ya?ml$/;

/** The test file that belongs to a rule file (`x.yml` → `x.tests.yml`). */
export function testFilePathFor(ruleFile: string): string {
  return ruleFile.replace(/\.ya?ml$/, (ext) => `.tests${ext}`);
}

/** Whether a path names a rule test file rather than a rule file. */
export function isRuleTestFile(path: string): boolean {
  return /\.tests\.ya?ml$/.test(path);
}

/** Every YAML file under `dir`, depth first, in name order. */
export function yamlFilesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...yamlFilesUnder(path));
    else if (entry.isFile() && RULE_FILE.test(entry.name)) found.push(path);
  }
  return found;
}

/** The rule files under `dir` (recursively, sorted): every .yml/.yaml file that is not a `.tests.yml` file. */
export function findRuleFiles(dir: string): string[] {
  return yamlFilesUnder(dir).filter((path) => !isRuleTestFile(path));
}
