/** The shipped rule pack: every rule's tests pass through the library, and every rule carries the metadata the pack promises. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { tapwireCategories } from '../../detectors/sigma/categoryTag.js';
import { runRuleTests } from '../../cli/ruleTesting/ruleTests.js';
import { findRuleFiles } from '../../detectors/sigma/ruleFiles.js';
import { REPO_ROOT } from '../support/tapwireCli.js';

const RULES_DIR = join(REPO_ROOT, 'rules');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface RuleDocument {
  title?: unknown;
  id?: unknown;
  status?: unknown;
  description?: unknown;
  references?: unknown;
  author?: unknown;
  date?: unknown;
  tags?: unknown;
  falsepositives?: unknown;
  level?: unknown;
}

const ruleDocuments = (): { file: string; rule: RuleDocument }[] =>
  findRuleFiles(RULES_DIR).flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.2' }).map((doc) => ({ file, rule: doc.toJS() as RuleDocument })));

describe('the shipped rule pack', () => {
  it("passes every rule's tests, and every rule has match and no-match cases", () => {
    const run = runRuleTests(RULES_DIR);
    expect(run.failures.map((f) => `${f.file}:${f.line}: ${f.message}`)).toEqual([]);
    expect(run.files.length).toBeGreaterThanOrEqual(40);
    for (const file of run.files) expect(file.cases, file.ruleFile).toBeGreaterThanOrEqual(2);
  });

  it('gives every rule a unique UUID, the documented fields, one category tag and ATLAS or ATT&CK plus OWASP MCP tags', () => {
    const documents = ruleDocuments();
    expect(documents.length).toBeGreaterThanOrEqual(40);
    const ids = new Set<string>();
    for (const { file, rule } of documents) {
      const where = `${file}: ${String(rule.title)}`;
      expect(rule.id, where).toMatch(UUID);
      expect(ids.has(rule.id as string), `${where}: duplicate id`).toBe(false);
      ids.add(rule.id as string);
      for (const field of ['title', 'description', 'author', 'date', 'status', 'level'] as const) expect(typeof rule[field], `${where}: ${field}`).toBe('string');
      for (const field of ['references', 'falsepositives', 'tags'] as const) expect((rule[field] as unknown[] | undefined)?.length ?? 0, `${where}: ${field}`).toBeGreaterThan(0);
      for (const reference of rule.references as string[]) expect(reference, where).toMatch(/^https:\/\//);
      const tags = rule.tags as string[];
      const categories = tags.filter((t) => t.startsWith('tapwire.category.')).map((t) => t.slice('tapwire.category.'.length));
      expect(categories, where).toHaveLength(1);
      expect(tapwireCategories(), where).toContain(categories[0]);
      expect(tags.some((t) => /^(?:atlas\.aml\.t\d{4}|attack\.t\d{4})/.test(t)), `${where}: ATLAS or ATT&CK tag`).toBe(true);
      expect(tags.some((t) => /^owasp-mcp\.mcp(?:0[1-9]|10)$/.test(t)), `${where}: OWASP MCP Top 10 tag`).toBe(true);
    }
  });
});
