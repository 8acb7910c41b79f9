/**
 * The learned tier as a detector: scores every description-like text and every piece of returned content of an
 * event with the content model, and alerts (contentModelRules.ts) when a score reaches the hunting band. Each alert
 * says why: the score, the threshold, the model version, the attack class, the words and tier-1 signals that pushed
 * the score up, the encodings undone, and an excerpt of the window that scored highest. It keeps no state: scores
 * are a pure function of the text (cached by its hash), so live, Kafka, replay and eval raise the same alerts.
 */
import { alertContextOf, alertSourceOf, buildAlert } from '../../alertBuilder.js';
import type { Detector, DetectorContext } from '../../detector.js';
import type { McpAlert } from '../../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../../pipeline/types/mcpEvent.js';
import type { ContentExplanation, ContentModel, ContentVerdict } from './contentModel.js';
import { levelOf, ruleOf } from './contentModelRules.js';
import { eventTexts, type EventText } from './eventTexts.js';

const ID = 'tapwire.content-model';
const round = (x: number): number => Math.round(x * 10_000) / 10_000;

/** The model's verdict on each text of an event (shared with the Sigma derived fields). */
export function eventVerdicts(model: ContentModel, event: McpEvent): { text: EventText; verdict: ContentVerdict }[] {
  return eventTexts(event).map((text) => ({ text, verdict: model.score(text.text, text.head) }));
}

/** The words an alert message names, per explanation (a repeated text alerts with the same ones). */
const driversOf = new WeakMap<ContentExplanation, string>();

function drivers(why: ContentExplanation): string {
  let named = driversOf.get(why);
  if (named === undefined) driversOf.set(why, (named = why.features.slice(0, 3).map((f) => `"${f.feature}"`).join(', ')));
  return named;
}

/** Alerts on the texts the content model scores at or above its hunting band. */
export class ContentModelDetector implements Detector {
  readonly id = ID;
  readonly partitionBy = 'host_session' as const;

  constructor(private readonly model: ContentModel) {}

  onEvent(event: McpEvent, _context: DetectorContext): McpAlert[] {
    if (event.mcp.direction !== 'server_to_client') return [];
    const alerts: McpAlert[] = [];
    for (const text of eventTexts(event)) {
      const scored = this.model.scored(text.text, text.head);
      const { verdict } = scored;
      const level = levelOf(verdict);
      if (level === undefined) continue;
      const rule = ruleOf(verdict, level);
      const why = this.model.explainedBy(scored);
      const where = text.name === undefined ? text.field : `${text.field.replace(/\[.*\]$/, '')} "${text.name}"`;
      const named = drivers(why);
      alerts.push(
        buildAlert({
          rule,
          context: alertContextOf(event),
          sources: [alertSourceOf(event)],
          discriminator: text.field,
          message: `${rule.name} (${level}): ${where} on MCP server "${event.mcp.server.name}" scores ${verdict.score.toFixed(3)} (threshold ${verdict.threshold.toFixed(3)}, ${verdict.attackClass}, model ${this.model.version})${named ? `; driven by ${named}` : ''}.`,
          matched: [
            { field: 'mcp.content.score', value: verdict.score.toFixed(4) },
            { field: 'mcp.content.class', value: verdict.attackClass },
          ],
          details: {
            model: {
              version: this.model.version,
              head: verdict.head,
              score: round(verdict.score),
              threshold: verdict.threshold,
              hunt_threshold: verdict.huntThreshold,
              attack_class: verdict.attackClass,
              class_probability: round(verdict.classProbability),
            },
            field: text.field,
            ...(text.name === undefined ? {} : { name: text.name }),
            features: why.features,
            signals: why.signals.map((s) => ({ id: s.id, attack: s.attack, start: s.start, end: s.end, evidence: s.evidence })),
            normalization: why.normalization,
            window: verdict.window,
            excerpt: why.excerpt,
          },
        }),
      );
    }
    return alerts;
  }
}
