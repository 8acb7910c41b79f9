/**
 * `tapwire eval DATA…`: measures detection on labelled records (the shared datasets' JSONL format). Every record
 * becomes the MCP traffic it would be on the wire and runs through the same stack as `tapwire replay` (rule pack,
 * stateful detectors, learned tier). Prints recall per source and attack type, false positives on benign records,
 * the confusion of attack classes and each tier's share, for the shipped model and — unless --quick — for
 * leave-one-source-out and grouped k-fold retraining of the learned tier; writes the figures into DETECTION.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLabelledRecords, sourceName, type LabelledRecord } from '../../detectors/content/model/training/labelledRecords.js';
import { benignCaptureDir, handWrittenCasesDir, trainingDataFiles } from '../../detectors/content/model/training/trainingData.js';
import { shippedModel } from '../../detectors/content/model/modelArtifact.js';
import { packageRoot } from '../../pipeline/packagePaths.js';
import { figures, judge, type EvalFigures } from '../eval/evalMetrics.js';
import { figuresMarkdown, headlineTable, pct } from '../eval/evalReport.js';
import { groupedCrossValidation, leaveOneSourceOut, type FoldOutcome } from '../eval/modelFolds.js';
import { runStack } from '../eval/stackRun.js';
import { parseCommand, UsageError } from '../usage.js';
import { readdirSync } from 'node:fs';

const spec = {
  name: 'eval',
  summary:
    'Measures detection on labelled JSONL records (the shared datasets format) through the full stack, for the\n' +
    'shipped model and for leave-one-source-out / grouped k-fold retraining of the learned tier; writes DETECTION.md.',
  usage: 'tapwire eval DATA… [--quick] [--cv K] [--no-captures] [--rules DIR] [--write FILE | --no-write]',
  details: `Options:
  --quick          only the shipped model (no retraining folds)
  --cv K           grouped folds for the cross-validated run (default 5)
  --no-captures    do not add the benign captures from ${'${TAPWIRE_DATA_CACHE:-~/.cache/tapwire}'}/benign
  --rules DIR      Sigma rule directory (default: the shipped pack)
  --write FILE     where to write the report (default: DETECTION.md of the package)
  --no-write       print only

Exit status: 0, or 1 when a line of DATA could not be used.`,
  options: {
    quick: { type: 'boolean' },
    cv: { type: 'string' },
    'no-captures': { type: 'boolean' },
    rules: { type: 'string' },
    write: { type: 'string' },
    'no-write': { type: 'boolean' },
  },
  positionals: { min: 1, max: 100 },
} as const;

const BEGIN = '<!-- eval:begin -->';
const END = '<!-- eval:end -->';

/** Entry point of `tapwire eval`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const k = o.cv === undefined ? 5 : Number(o.cv);
  if (!Number.isInteger(k) || k < 2) throw new UsageError(`--cv: expected an integer of at least 2, got '${o.cv}'`);
  for (const file of parsed.positionals) if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const files = [...parsed.positionals];
  if (!o['no-captures']) {
    const captures = existsSync(benignCaptureDir()) ? readdirSync(benignCaptureDir()).filter((f) => f.endsWith('.jsonl')).map((f) => join(benignCaptureDir(), f)) : [];
    if (captures.length === 0) log(`note: no benign captures in ${benignCaptureDir()} (run 'node scripts/benign/capture.mjs'); measuring without them`);
    else log(`adding benign captures: ${captures.join(', ')}`);
    files.push(...captures);
  }
  const { records, errors } = readLabelledRecords(files);
  for (const error of errors) log(error);
  const handWritten = readLabelledRecords(trainingDataFiles().files.filter((f) => f.startsWith(handWrittenCasesDir()))).records;
  const rules = o.rules ? { rules: o.rules } : {};
  const model = shippedModel();
  log(`eval: ${records.length} records from ${files.length} files; shipped model ${model.version}`);
  const shipped = figures(judge(runStack(records, rules)));
  const sections: { title: string; body: string }[] = [];
  const headline: { name: string; figures: EvalFigures }[] = [{ name: `shipped model ${model.version} (trained on these data: optimistic)`, figures: shipped }];
  let loso: FoldOutcome[] = [];
  let cv: FoldOutcome[] = [];
  if (!o.quick) {
    loso = leaveOneSourceOut(records, handWritten, { ...rules, log });
    const losoFigures = figures(judge(loso.flatMap((f) => f.outcomes)));
    headline.unshift({ name: `grouped ${k}-fold`, figures: (cv = groupedCrossValidation(records, handWritten, k, { ...rules, log }), figures(judge(cv.flatMap((f) => f.outcomes)))) });
    headline.unshift({ name: 'leave-one-source-out', figures: losoFigures });
    sections.push({ title: 'Leave-one-source-out, every fold', body: foldTable(loso) });
    sections.push({ title: 'Leave-one-source-out, all folds pooled', body: figuresMarkdown(losoFigures) });
    sections.push({ title: `Grouped ${k}-fold, pooled`, body: figuresMarkdown(headline[1]?.figures as EvalFigures) });
  }
  sections.push({ title: 'Shipped model on the same data (it was trained on them: an upper bound, not a measure)', body: figuresMarkdown(shipped) });
  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`tapwire eval ${parsed.positionals.join(' ')}\`${o['no-captures'] ? ' --no-captures' : ''}; shipped model \`${model.version}\`, thresholds: documentation ${model.parts.heads.documentation.threshold} (hunting from ${model.parts.heads.documentation.huntThreshold}), content ${model.parts.heads.content.threshold} (hunting from ${model.parts.heads.content.huntThreshold}).`,
    `Records: ${records.length} (${summarizeSources(records)}).`,
    '',
    headlineTable(headline),
    '',
    ...sections.flatMap((s) => [`### ${s.title}`, '', s.body, '']),
  ].join('\n');
  process.stdout.write(`${report}\n`);
  if (!o['no-write']) {
    const target = o.write ?? join(packageRoot(), 'DETECTION.md');
    const block = `${BEGIN}\n${report}\n${END}`;
    const current = existsSync(target) ? readFileSync(target, 'utf8') : `# Detection quality\n\n${BEGIN}\n${END}\n`;
    const start = current.indexOf(BEGIN);
    const end = current.indexOf(END);
    writeFileSync(target, start >= 0 && end > start ? current.slice(0, start) + block + current.slice(end + END.length) : `${current}\n${block}\n`);
    log(`wrote ${target}`);
  }
  return errors.length > 0 ? 1 : 0;
}

function summarizeSources(records: readonly LabelledRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(sourceName(r), (counts.get(sourceName(r)) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s} ${n}`).join(', ');
}

function foldTable(folds: readonly FoldOutcome[]): string {
  const rows = folds.map((fold) => {
    const h = figures(judge(fold.outcomes)).headline;
    const t = fold.model.parts.heads;
    return `| ${fold.name} | ${pct(h.descriptions)} | ${pct(h.results)} | ${pct(h.definitions)} | ${pct(h.benignResults)} | ${pct(h.hardNegatives)} | ${t.documentation.threshold} / ${t.content.threshold} |`;
  });
  return ['| held-out source | malicious descriptions | malicious results | FP definitions | FP results | FP hard negatives | fold thresholds (doc / content) |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}
