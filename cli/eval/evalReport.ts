/** Renders eval figures as Markdown tables (printed by `tapwire eval` and written into DETECTION.md). */
import { rate, TIERS, type EvalFigures, type Rate } from './evalMetrics.js';

export const pct = (r: Rate): string => (r.n === 0 ? '–' : `${(100 * rate(r)).toFixed(1)}% (${r.hits}/${r.n})`);

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const sorted = <V>(m: Map<string, V>): [string, V][] => [...m].sort(([a], [b]) => a.localeCompare(b));

/** The headline row: recall on malicious descriptions and results, false positives on the benign populations. */
export function headlineTable(rows: { name: string; figures: EvalFigures }[]): string {
  return table(
    ['run', 'malicious descriptions detected', 'malicious results detected', 'FP benign tool definitions', 'FP benign results', 'FP hard negatives'],
    rows.map(({ name, figures: { headline: h } }) => [name, pct(h.descriptions), pct(h.results), pct(h.definitions), pct(h.benignResults), pct(h.hardNegatives)]),
  );
}

/** Every table of one run. */
export function figuresMarkdown(f: EvalFigures): string {
  const parts: string[] = [];
  parts.push('Recall per source (malicious records with an alert above informational):\n');
  parts.push(table(['source / field', 'recall'], sorted(f.recallBySource).map(([k, r]) => [k, pct(r)])));
  parts.push('\nFalse positives per source (benign records with an alert above informational):\n');
  parts.push(table(['source / kind', 'false positives'], sorted(f.falsePositivesBySource).map(([k, r]) => [k, pct(r)])));
  parts.push('\nRecall per attack type:\n');
  parts.push(table(['attack', 'recall'], sorted(f.recallByAttack).map(([k, r]) => [k, pct(r)])));
  parts.push('\nPer tier (a record counts for every tier that alerted on it):\n');
  parts.push(
    table(
      ['tier', 'malicious descriptions', 'malicious results', 'FP definitions', 'FP results', 'FP hard negatives'],
      [...TIERS, 'any' as const].map((t) => {
        const r = f.tiers.get(t);
        return r ? [t === 'rules' ? 'rules (Sigma pack)' : t === 'tier1' ? 'tier 1 (structural)' : t === 'learned' ? 'learned tier' : t === 'stateful' ? 'other stateful' : '**any**', pct(r.descriptions), pct(r.results), pct(r.definitions), pct(r.benignResults), pct(r.hardNegatives)] : [t];
      }),
    ),
  );
  const predicted = [...new Set([...f.confusion.values()].flatMap((row) => [...row.keys()]))].sort();
  if (predicted.length > 0) {
    parts.push("\nConfusion of attack classes (true attack → learned tier's class, on records it alerted on):\n");
    parts.push(table(['true \\ predicted', ...predicted], sorted(f.confusion).map(([truth, row]) => [truth, ...predicted.map((p) => String(row.get(p) ?? 0))])));
  }
  parts.push(`\nInformational only (hunting band): ${pct(f.hunting.malicious)} of malicious, ${pct(f.hunting.benign)} of benign records.`);
  return parts.join('\n');
}
