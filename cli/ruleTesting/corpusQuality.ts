/**
 * Measures a rule set against the labelled corpus (corpusItems.ts): recall per category (a malicious item
 * counts as detected when an alert carries its category) and false positives per kind of benign item (any
 * alert on a benign item is one), rendered as the Markdown table rules/README.md shows.
 */
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { CompiledRule } from '../../detectors/sigma/compiledRule.js';
import { corpusTranscript, PAYLOAD_KINDS, type CorpusClass, type CorpusItem } from './corpusItems.js';
import { RuleEngine } from '../../detectors/sigma/ruleEngine.js';
import type { TapwireCategory } from '../../detectors/sigma/ruleModel.js';
import { transcriptEvents } from './transcriptEvents.js';

/** How the rules judged one item. */
export interface CorpusVerdict {
  item: CorpusItem;
  alerts: McpAlert[];
  /** Malicious items: an alert carries the item's category. */
  detected: boolean;
}

/** Recall of one category over the malicious items labelled with it. */
export interface CategoryQuality {
  category: TapwireCategory;
  malicious: number;
  detected: number;
  recall: number;
  /** Benign items that raised an alert of this category. */
  benignAlerted: number;
}

/** False positives over one class of benign items (definitions, calls, results, server requests). */
export interface ClassQuality {
  class: CorpusClass;
  benign: number;
  /** Benign items that raised any alert. */
  alerted: number;
  falsePositiveRate: number;
}

/** The whole measurement, with the items behind each miss and false positive. */
export interface CorpusQuality {
  categories: CategoryQuality[];
  classes: ClassQuality[];
  malicious: number;
  detected: number;
  recall: number;
  benign: number;
  benignAlerted: number;
  missed: CorpusVerdict[];
  falsePositives: CorpusVerdict[];
}

/** Runs every item through a fresh engine over `rules`; throws TranscriptError for an item the normalizer cannot read. */
export function evaluateCorpus(items: readonly CorpusItem[], rules: readonly CompiledRule[]): CorpusVerdict[] {
  return items.map((item) => {
    const engine = new RuleEngine(rules);
    const events = transcriptEvents(item.file, corpusTranscript(item), { redact: item.redact });
    const alerts = [...events.flatMap((e) => engine.evaluate(e)), ...engine.flush()];
    return { item, alerts, detected: item.label === 'malicious' && alerts.some((a) => a.rule.category === item.category) };
  });
}

const ratio = (part: number, whole: number): number => (whole === 0 ? 0 : part / whole);

/** Recall per category and false-positive rate per class of benign item. */
export function corpusQuality(verdicts: readonly CorpusVerdict[]): CorpusQuality {
  const malicious = verdicts.filter((v) => v.item.label === 'malicious');
  const benign = verdicts.filter((v) => v.item.label === 'benign');
  const falsePositives = benign.filter((v) => v.alerts.length > 0);
  const categoryNames = [...new Set(malicious.map((v) => v.item.category as TapwireCategory))].sort();
  const categories = categoryNames.map((category) => {
    const ofCategory = malicious.filter((v) => v.item.category === category);
    const detected = ofCategory.filter((v) => v.detected).length;
    return {
      category,
      malicious: ofCategory.length,
      detected,
      recall: ratio(detected, ofCategory.length),
      benignAlerted: falsePositives.filter((v) => v.alerts.some((a) => a.rule.category === category)).length,
    };
  });
  const classNames = [...new Set(Object.values(PAYLOAD_KINDS).map((k) => k.class))];
  const classes = classNames.map((name) => {
    const ofClass = benign.filter((v) => PAYLOAD_KINDS[v.item.kind].class === name);
    const alerted = ofClass.filter((v) => v.alerts.length > 0).length;
    return { class: name, benign: ofClass.length, alerted, falsePositiveRate: ratio(alerted, ofClass.length) };
  });
  const detected = malicious.filter((v) => v.detected).length;
  return {
    categories,
    classes,
    malicious: malicious.length,
    detected,
    recall: ratio(detected, malicious.length),
    benign: benign.length,
    benignAlerted: falsePositives.length,
    missed: malicious.filter((v) => !v.detected),
    falsePositives,
  };
}

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;

/** The two Markdown tables: recall per category, false positives per class of benign item. */
export function qualityMarkdown(quality: CorpusQuality): string {
  const recallRows = quality.categories.map((c) => `| ${c.category} | ${c.malicious} | ${c.detected} | ${percent(c.recall)} | ${c.benignAlerted} |`);
  const fpRows = quality.classes.map((c) => `| ${c.class} | ${c.benign} | ${c.alerted} | ${percent(c.falsePositiveRate)} |`);
  return [
    '| category | malicious items | detected | recall | benign items alerted with this category |',
    '|---|---|---|---|---|',
    ...recallRows,
    `| **all** | ${quality.malicious} | ${quality.detected} | **${percent(quality.recall)}** | ${quality.benignAlerted} |`,
    '',
    '| benign items | count | alerted | false-positive rate |',
    '|---|---|---|---|',
    ...fpRows,
    `| **all** | ${quality.benign} | ${quality.benignAlerted} | **${percent(ratio(quality.benignAlerted, quality.benign))}** |`,
    '',
  ].join('\n');
}
