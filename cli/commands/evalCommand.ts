/**
 * `tapwire eval DATA…`: measures detection on labelled records (the shared datasets' JSONL format). Every record
 * becomes the MCP traffic it would be on the wire and runs through the same stack as `tapwire replay` (rule pack,
 * stateful detectors, learned tier). Prints recall per source and attack type, false positives on benign records,
 * the confusion of attack classes and each tier's share, for the shipped model and — unless --quick — for
 * leave-one-source-out retraining of the learned tier (--cv K adds grouped k-fold); writes the figures into DETECTION.md.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLabelledRecords, sourceName, type LabelledRecord } from '../../detectors/content/model/training/labelledRecords.js';
import { benignCaptureDir, handWrittenCasesDir, trainingDataFiles } from '../../detectors/content/model/training/trainingData.js';
import { shippedModel } from '../../detectors/content/model/modelArtifact.js';
import { packageRoot } from '../../pipeline/packagePaths.js';
import { figures, judge } from '../eval/evalMetrics.js';
import type { ContentModel } from '../../detectors/content/model/contentModel.js';
import { figuresMarkdown, headlineTable, pct } from '../eval/evalReport.js';
import { groupedCrossValidation, leaveOneSourceOut, type FoldOutcome } from '../eval/modelFolds.js';
import { runStack } from '../eval/stackRun.js';
import { parseCommand, UsageError } from '../usage.js';

const spec = {
  name: 'eval',
  summary:
    'Measures detection on labelled JSONL records (the shared datasets format) through the full stack, for the\n' +
    'shipped model and for leave-one-source-out (and optionally grouped k-fold) retraining of the learned tier;\n' +
    'writes DETECTION.md.',
  usage: 'tapwire eval DATA… [--quick] [--cv K] [--no-captures] [--rules DIR] [--write FILE | --no-write]',
  details: `Options:
  --quick          only the shipped model (no retraining folds)
  --cv K           also a grouped K-fold run (retrains the learned tier K times)
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
  const k = o.cv === undefined ? undefined : Number(o.cv);
  if (k !== undefined && (!Number.isInteger(k) || k < 2)) throw new UsageError(`--cv: expected an integer of at least 2, got '${o.cv}'`);
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
  const target = o['no-write'] ? undefined : (o.write ?? join(packageRoot(), 'DETECTION.md'));
  const runs: Run[] = [];
  // The report is written after every fold: a long run that is stopped still leaves what it measured.
  const publish = (final: boolean): void => {
    const report = renderReport(argv, records, model, runs, final);
    if (final) process.stdout.write(`${report}\n`);
    if (target) writeBetweenMarkers(target, report);
  };
  if (!o.quick) {
    const loso: Run = { name: 'leave-one-source-out', folds: [] };
    runs.push(loso);
    leaveOneSourceOut(records, handWritten, { ...rules, log, onFold: (done) => ((loso.folds = [...done]), publish(false)) });
  }
  if (k !== undefined) {
    const cv: Run = { name: `grouped ${k}-fold`, folds: [] };
    runs.push(cv);
    groupedCrossValidation(records, handWritten, k, { ...rules, log, onFold: (done) => ((cv.folds = [...done]), publish(false)) });
  }
  runs.push({ name: `shipped model ${model.version} (when DATA is its training data: an upper bound, not a measure)`, folds: [{ name: 'all', model, outcomes: runStack(records, rules) }] });
  publish(true);
  if (target) log(`wrote ${target}`);
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

/** A measured run: the shipped model, or the folds of a retraining scheme. */
interface Run {
  name: string;
  folds: FoldOutcome[];
}

function renderReport(argv: readonly string[], records: readonly LabelledRecord[], model: ContentModel, runs: readonly Run[], final: boolean): string {
  const measured = runs.filter((r) => r.folds.length > 0).map((r) => ({ run: r, figures: figures(judge(r.folds.flatMap((f) => f.outcomes))) }));
  const heads = model.parts.heads;
  return [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`tapwire eval ${argv.join(' ')}\`${final ? '' : ' (still running when written: runs below are partial)'}; shipped model \`${model.version}\`, thresholds: documentation ${heads.documentation.threshold} (hunting from ${heads.documentation.huntThreshold}), content ${heads.content.threshold} (hunting from ${heads.content.huntThreshold}).`,
    `Records: ${records.length} (${summarizeSources(records)}).`,
    '',
    headlineTable(measured.map((m) => ({ name: m.run.folds.length > 1 ? `${m.run.name} (${m.run.folds.length} folds)` : m.run.name, figures: m.figures }))),
    '',
    ...measured.flatMap((m) => [
      ...(m.run.folds.length > 1 ? [`### ${m.run.name}: every fold`, '', foldTable(m.run.folds), ''] : []),
      `### ${m.run.name}${m.run.folds.length > 1 ? ': folds pooled' : ''}`,
      '',
      figuresMarkdown(m.figures),
      '',
    ]),
  ].join('\n');
}

function writeBetweenMarkers(target: string, report: string): void {
  const block = `${BEGIN}\n${report}\n${END}`;
  const current = existsSync(target) ? readFileSync(target, 'utf8') : `# Detection quality\n\n${BEGIN}\n${END}\n`;
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  writeFileSync(target, start >= 0 && end > start ? current.slice(0, start) + block + current.slice(end + END.length) : `${current}\n${block}\n`);
}
