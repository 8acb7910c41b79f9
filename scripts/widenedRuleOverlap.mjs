#!/usr/bin/env node
/**
 * What the widened tier of the Kibana export (`tapwire rules export --allow-widened`, rules/EXPORT.md) costs on the
 * labelled datasets: for each rule exported in widened form, the engine runs the rule as shipped and the rule with
 * its regexes replaced by the widened patterns the Kibana query says exactly, on every record (turned into MCP events
 * as `tapwire eval` does). It counts the records the widened rule alerts on and the shipped one does not (its extra
 * alerts, split by label: on benign records they are extra false positives) and the reverse, which must be 0 (the
 * widening only lets bounded gaps run longer: regexWidening.ts). Exits 1 if any reverse count is not 0.
 * Usage: npm run build && node scripts/widenedRuleOverlap.mjs [FILE.jsonl …]   (default: ../shared/datasets/*.jsonl)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, visit, isScalar } from 'yaml';
import { readLabelledRecords } from '../dist/detectors/content/model/training/labelledRecords.js';
import { recordEvents } from '../dist/cli/eval/recordEvents.js';
import { exportKibanaRules } from '../dist/detectors/sigma/kibanaExport.js';
import { compileRules } from '../dist/detectors/sigma/ruleCompiler.js';
import { findRuleFiles } from '../dist/detectors/sigma/ruleFiles.js';
import { RuleEngine } from '../dist/detectors/sigma/ruleEngine.js';

const root = join(import.meta.dirname, '..');
const files = process.argv.slice(2);
if (files.length === 0) files.push(...['descriptions', 'results', 'hard_negatives'].map((name) => join(root, '..', 'shared', 'datasets', `${name}.jsonl`)));

const sources = findRuleFiles(join(root, 'rules')).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
const exported = exportKibanaRules(sources, { allowWidened: true });
console.log(`${exported.widened.length} rules exported in widened form`);

/** The rule file with the widened rule's regex values replaced by their widened patterns (in that rule's document only). */
function widenedSource(source, widened) {
  const replacements = new Map(widened.widenings.map((w) => [w.pattern, w.widenedPattern]));
  const replaced = new Set();
  const documents = parseAllDocuments(source.text).map((doc) => {
    if (doc.get('id') === widened.id) {
      visit(doc, {
        Scalar(_, node) {
          if (!isScalar(node) || !replacements.has(node.value)) return;
          replaced.add(node.value);
          node.value = replacements.get(node.value);
        },
      });
    }
    return doc.toString();
  });
  // Every widened regex of the query must be widened in the rule the engine runs.
  if (replaced.size !== replacements.size) throw new Error(`${widened.id}: ${replacements.size - replaced.size} widened patterns not found in ${source.path}`);
  return { path: source.path, text: documents.join('---\n') };
}

const shipped = compileRules(sources);
const ids = new Set(exported.widened.map((w) => w.id));
const original = shipped.rules.filter((r) => ids.has(r.meta.id));
const widenedRules = exported.widened.map((w) => {
  const source = sources.find((s) => s.path === w.file);
  const compiled = compileRules([widenedSource(source, w)]);
  if (compiled.errors.length > 0) throw new Error(`${w.file}: ${compiled.errors.map((e) => e.message).join('; ')}`);
  return compiled.rules.find((r) => r.meta.id === w.id);
});

const { records, errors } = readLabelledRecords(files);
for (const error of errors) console.error(error);
console.log(`${records.length} records from ${files.join(', ')}`);

const shippedEngine = new RuleEngine(original);
const widenedEngine = new RuleEngine(widenedRules);
const counts = new Map(exported.widened.map((w) => [w.id, { extraBenign: 0, extraMalicious: 0, missing: 0, shippedAlerts: 0, examples: [] }]));
const alertedIds = (engine, events) => new Set(events.flatMap((e) => engine.evaluate(e)).map((a) => a.rule.id));
records.forEach((record, i) => {
  const events = recordEvents(record, 2 * i + 1);
  const before = alertedIds(shippedEngine, events);
  const after = alertedIds(widenedEngine, events);
  for (const [id, c] of counts) {
    if (before.has(id)) c.shippedAlerts += 1;
    if (after.has(id) && !before.has(id)) {
      if (record.label === 'benign') c.extraBenign += 1;
      else c.extraMalicious += 1;
      if (c.examples.length < 2) c.examples.push(record.id);
    }
    if (before.has(id) && !after.has(id)) c.missing += 1;
  }
});

console.log('\n| rule | shipped rule alerts | widened: extra on benign (false positives) | extra on malicious | shipped alerts the widened rule misses | extra, e.g. |');
console.log('|---|---:|---:|---:|---:|---|');
for (const w of exported.widened) {
  const c = counts.get(w.id);
  const name = w.file.replace(/^.*\/rules\//, '').replace(/\.yml$/, '');
  console.log(`| ${name} | ${c.shippedAlerts} | ${c.extraBenign} | ${c.extraMalicious} | ${c.missing} | ${c.examples.join(', ')} |`);
}
const missing = [...counts.values()].reduce((n, c) => n + c.missing, 0);
console.log(`\n${missing === 0 ? 'superset holds' : 'SUPERSET VIOLATED'}: ${missing} shipped alerts missed by the widened rules`);
process.exit(missing === 0 ? 0 : 1);
