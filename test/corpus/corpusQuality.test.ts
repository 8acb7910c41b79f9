/**
 * Measures the shipped pack on the labelled corpus: the hand-written items under test/corpus/{malicious,benign} plus the tool,
 * prompt and resource definitions captured now from the official MCP server packages. Asserts the issue's
 * targets (recall >= 95%, false positives <= 1% of benign definitions) and that rules/README.md shows the
 * current table (run with UPDATE_RULES_README=1 to rewrite it).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, type CorpusItem } from '../../cli/ruleTesting/corpusItems.js';
import { corpusQuality, evaluateCorpus, qualityMarkdown, type CorpusQuality } from '../../cli/ruleTesting/corpusQuality.js';
import { compileRules } from '../../detectors/sigma/index.js';
import { findRuleFiles } from '../../detectors/sigma/ruleFiles.js';
import { REPO_ROOT } from '../support/tapwireCli.js';
import { captureOfficialServers, OFFICIAL_SERVERS } from './officialServers.js';

const README = join(REPO_ROOT, 'rules', 'README.md');
const BEGIN = '<!-- corpus-quality:begin -->';
const END = '<!-- corpus-quality:end -->';

describe('the shipped pack on the labelled corpus', () => {
  let items: CorpusItem[];
  let quality: CorpusQuality;

  beforeAll(async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'tapwire-corpus-'));
    try {
      const corpus = loadCorpus(['malicious', 'benign'].map((label) => join(REPO_ROOT, 'test', 'corpus', label)));
      expect(corpus.errors.map((e) => e.message)).toEqual([]);
      items = [...corpus.items, ...(await captureOfficialServers(workDir))];
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
    const files = findRuleFiles(join(REPO_ROOT, 'rules'));
    const { rules, errors } = compileRules(files.map((path) => ({ path, text: readFileSync(path, 'utf8') })));
    expect(errors.map((e) => e.message)).toEqual([]);
    quality = corpusQuality(evaluateCorpus(items, rules));
  });

  it('holds at least 60 malicious items over the categories and 150 benign ones, including every official server', () => {
    expect(quality.malicious).toBeGreaterThanOrEqual(60);
    expect(quality.categories.map((c) => c.category)).toEqual(
      expect.arrayContaining(['tool_poisoning', 'tool_shadowing', 'hidden_content', 'prompt_injection', 'sensitive_data', 'ssrf', 'path_traversal', 'command_injection', 'server_impersonation']),
    );
    expect(quality.benign).toBeGreaterThanOrEqual(150);
    for (const server of OFFICIAL_SERVERS) {
      const captured = items.filter((i) => i.id.startsWith(`official-${server.name}-tool-`));
      expect(captured.length, server.name).toBeGreaterThan(0);
    }
    expect(items.find((i) => i.id === 'official-server-filesystem-tool-read_text_file')?.payload).toEqual([expect.objectContaining({ name: 'read_text_file', inputSchema: expect.any(Object) })]);
  });

  it('detects at least 95% of malicious items overall and in every category, with an alert of the item\'s category', () => {
    const missed = quality.missed.map((v) => `${v.item.id} (${v.item.category}): ${v.alerts.map((a) => `${a.rule.category}/${a.rule.name}`).join('; ') || 'no alert'}`);
    expect(quality.recall, missed.join('\n')).toBeGreaterThanOrEqual(0.95);
    for (const category of quality.categories) expect(category.recall, `${category.category}\n${missed.join('\n')}`).toBeGreaterThanOrEqual(0.95);
  });

  it('alerts on at most 1% of benign definitions (and reports the other classes)', () => {
    const alerted = quality.falsePositives.map((v) => `${v.item.id}: ${v.alerts.map((a) => a.rule.name).join('; ')}`);
    const definitions = quality.classes.find((c) => c.class === 'definitions');
    expect(definitions?.benign).toBeGreaterThanOrEqual(150);
    expect(definitions?.falsePositiveRate, alerted.join('\n')).toBeLessThanOrEqual(0.01);
    for (const other of quality.classes) expect(other.falsePositiveRate, `${other.class}\n${alerted.join('\n')}`).toBeLessThanOrEqual(0.05);
  });

  it('matches the quality table in rules/README.md', () => {
    const readme = readFileSync(README, 'utf8');
    const start = readme.indexOf(BEGIN);
    const end = readme.indexOf(END);
    expect(start >= 0 && end > start, `${README} needs the ${BEGIN} ... ${END} markers`).toBe(true);
    const table = `${BEGIN}\n${qualityMarkdown(quality)}${END}`;
    const current = readme.slice(start, end + END.length);
    if (process.env.UPDATE_RULES_README === '1' && current !== table) writeFileSync(README, readme.replace(current, table));
    else expect(current, 'rules/README.md is out of date: run UPDATE_RULES_README=1 npx vitest run test/corpus').toBe(table);
  });
});
