/**
 * The learned tier's verdict as Sigma-referenceable fields, so a rule can combine it with conditions:
 *  - mcp.content.score: the highest model score over the event's texts (e.g. `mcp.content.score|gte: 0.9`);
 *  - mcp.content.class: the attack class of that text when it reaches the hunting band.
 * Both use the shipped model and its score cache, so the detector and the rules score each text once.
 */
import type { McpEvent } from '../../../pipeline/types/mcpEvent.js';
import { eventVerdicts } from './contentModelDetector.js';
import { shippedModel } from './modelArtifact.js';

function highest(event: McpEvent): ReturnType<typeof eventVerdicts>[number] | undefined {
  let best: ReturnType<typeof eventVerdicts>[number] | undefined;
  for (const scored of eventVerdicts(shippedModel(), event)) if (!best || scored.verdict.score > best.verdict.score) best = scored;
  return best;
}

/** mcp.content.score */
export function contentScoreField(event: McpEvent): string[] {
  const best = highest(event);
  return best ? [best.verdict.score.toFixed(4)] : [];
}

/** mcp.content.class */
export function contentClassField(event: McpEvent): string[] {
  const best = highest(event);
  return best && best.verdict.score >= best.verdict.huntThreshold ? [best.verdict.attackClass] : [];
}
