/**
 * Judges stack outcomes on labelled records: a record is detected (malicious) or a false positive (benign) when any
 * alert above informational names it; informational alerts (the learned tier's hunting band) are counted apart.
 * Alerts are attributed to tiers: the Sigma rule pack, tier-1 structural detectors, the learned tier, and the other
 * stateful detectors.
 */
import { basename } from 'node:path';
import { sourceName, type LabelledRecord } from '../../detectors/content/model/training/labelledRecords.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { RecordOutcome } from './stackRun.js';

export type Tier = 'rules' | 'tier1' | 'learned' | 'stateful';
export const TIERS: readonly Tier[] = ['rules', 'tier1', 'learned', 'stateful'];

/** The tier that raised an alert. */
export function tierOf(alert: McpAlert): Tier {
  const id = alert.rule.id;
  if (id.startsWith('tapwire.content-model')) return 'learned';
  if (id.startsWith('tapwire.content') || id.startsWith('tapwire.structural')) return 'tier1';
  if (id.startsWith('tapwire.')) return 'stateful';
  return 'rules';
}

const INFORMATIONAL_RISK = 10;

/** How the stack judged one record. */
export interface Judgement {
  record: LabelledRecord;
  source: string;
  /** Tiers with an alert above informational. */
  tiers: Set<Tier>;
  flagged: boolean;
  /** Only informational alerts. */
  huntOnly: boolean;
  /** The learned tier's attack class (highest score), when it alerted. */
  learnedClass?: string;
}

/** The judgement of each outcome. */
export function judge(outcomes: readonly RecordOutcome[]): Judgement[] {
  return outcomes.map(({ record, alerts }) => {
    const counted = alerts.filter((a) => a.event.risk_score > INFORMATIONAL_RISK);
    const model = (a: McpAlert): { score?: number; attack_class?: string } => ((a.alert.details as { model?: { score?: number; attack_class?: string } } | undefined)?.model ?? {});
    const learned = counted.filter((a) => tierOf(a) === 'learned').sort((a, b) => (model(b).score ?? 0) - (model(a).score ?? 0))[0];
    const j: Judgement = { record, source: sourceName(record), tiers: new Set(counted.map(tierOf)), flagged: counted.length > 0, huntOnly: counted.length === 0 && alerts.length > 0 };
    const cls = learned ? model(learned).attack_class : undefined;
    if (cls !== undefined) j.learnedClass = cls;
    return j;
  });
}

/** The population a benign record belongs to for false-positive rates. */
export function benignKind(record: LabelledRecord): 'definitions' | 'results' | 'hard negatives' {
  if (basename(record.origin).startsWith('hard_negatives')) return 'hard negatives';
  return record.field === 'tool_result' ? 'results' : record.field === 'tool_description' ? 'definitions' : 'hard negatives';
}

export interface Rate {
  n: number;
  hits: number;
}

export const rate = (r: Rate): number => (r.n === 0 ? 0 : r.hits / r.n);
const add = (map: Map<string, Rate>, key: string, hit: boolean): void => {
  const r = map.get(key) ?? { n: 0, hits: 0 };
  r.n += 1;
  if (hit) r.hits += 1;
  map.set(key, r);
};

/** Every figure eval prints. */
export interface EvalFigures {
  /** Malicious recall by `source / field`. */
  recallBySource: Map<string, Rate>;
  recallByAttack: Map<string, Rate>;
  /** Benign false positives by `source / kind`. */
  falsePositivesBySource: Map<string, Rate>;
  /** Headline: malicious descriptions, malicious results; benign definitions, results, hard negatives. */
  headline: { descriptions: Rate; results: Rate; definitions: Rate; benignResults: Rate; hardNegatives: Rate };
  /** Per tier: recall on malicious descriptions/results, false positives on benign definitions/results/hard negatives. */
  tiers: Map<Tier | 'any', { descriptions: Rate; results: Rate; definitions: Rate; benignResults: Rate; hardNegatives: Rate }>;
  /** Informational-only hits on benign and malicious records. */
  hunting: { malicious: Rate; benign: Rate };
  /** true attack → learned tier's class → count. */
  confusion: Map<string, Map<string, number>>;
}

/** The figures of a set of judgements. */
export function figures(judgements: readonly Judgement[]): EvalFigures {
  const f: EvalFigures = {
    recallBySource: new Map(),
    recallByAttack: new Map(),
    falsePositivesBySource: new Map(),
    headline: { descriptions: { n: 0, hits: 0 }, results: { n: 0, hits: 0 }, definitions: { n: 0, hits: 0 }, benignResults: { n: 0, hits: 0 }, hardNegatives: { n: 0, hits: 0 } },
    tiers: new Map(),
    hunting: { malicious: { n: 0, hits: 0 }, benign: { n: 0, hits: 0 } },
    confusion: new Map(),
  };
  const bump = (r: Rate, hit: boolean): void => {
    r.n += 1;
    if (hit) r.hits += 1;
  };
  for (const tier of [...TIERS, 'any'] as const) f.tiers.set(tier, { descriptions: { n: 0, hits: 0 }, results: { n: 0, hits: 0 }, definitions: { n: 0, hits: 0 }, benignResults: { n: 0, hits: 0 }, hardNegatives: { n: 0, hits: 0 } });
  for (const j of judgements) {
    const r = j.record;
    const slot: keyof EvalFigures['headline'] | undefined =
      r.label === 'malicious' ? (r.field === 'tool_result' ? 'results' : 'descriptions') : ({ definitions: 'definitions', results: 'benignResults', 'hard negatives': 'hardNegatives' } as const)[benignKind(r)];
    bump(f.headline[slot], j.flagged);
    for (const [tier, rates] of f.tiers) bump(rates[slot], tier === 'any' ? j.flagged : j.tiers.has(tier));
    if (r.label === 'malicious') {
      add(f.recallBySource, `${j.source} / ${r.field}`, j.flagged);
      add(f.recallByAttack, r.attack, j.flagged);
      bump(f.hunting.malicious, j.huntOnly);
      if (j.learnedClass !== undefined) {
        const row = f.confusion.get(r.attack) ?? new Map<string, number>();
        row.set(j.learnedClass, (row.get(j.learnedClass) ?? 0) + 1);
        f.confusion.set(r.attack, row);
      }
    } else {
      add(f.falsePositivesBySource, `${j.source} / ${benignKind(r)}`, j.flagged);
      bump(f.hunting.benign, j.huntOnly);
    }
  }
  return f;
}
