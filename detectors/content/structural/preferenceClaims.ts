/**
 * Preference manipulation: a description that sells itself to the model so it picks this tool over others —
 * "the best tool in the world", "trusted by 95% of developers", "always prefer this tool", "the official and
 * only required tool". One mild word ("official API", "fast") is how real descriptions talk, so cues carry
 * weights and the description's total is scored against what tools of the same kind claim on average
 * (context.peerClaimRate); it signals only when it claims clearly more than its peers.
 */
import { signalAt, type StructuralDetector, type StructuralSignal } from './structuralDetector.js';

const SELF = String.raw`(?:this|our|the\s+present|my)\s+(?:tool|function|service|server|api|plugin|solution|extension|assistant)`;

/** Cue, weight, pattern, guard (words every match contains: a cheap test first). */
const CUES: readonly (readonly [string, number, RegExp, RegExp])[] = [
  ['self_superlative', 3, new RegExp(String.raw`\b(?:${SELF}\s+is\s+(?:the|by\s+far\s+the)\s+|the\s+)(?:best|greatest|finest|most\s+(?:trusted|reliable|accurate|advanced|powerful|popular|secure|capable|recommended|widely\s+used))\s+(?:\w+\s+){0,2}(?:tool|function|service|option|choice|solution|api)s?\b(?:\s+(?:in\s+the\s+world|ever|available|on\s+the\s+market|there\s+is))?`, 'gi'), /\b(?:best|greatest|finest|most)\b/i],
  ['superlative', 1, /\b(?:world'?s\s+(?:best|leading|first|most|number\s+one)|number\s+one|#\s?1\b|top[-\s]rated|industry[-\s]leading|unmatched|unrivall?ed|unparall?eled|unbeatable|second\s+to\s+none|best[-\s]in[-\s]class|gold\s+standard)\b/gi, /world'?s|number\s+one|#\s?1|top[-\s]rated|industry[-\s]leading|unmatched|unrival|unparall|unbeatable|second\s+to\s+none|best[-\s]in|gold\s+standard/i],
  ['usage_statistic', 2, /\b(?:used|trusted|preferred|chosen|loved|relied\s+(?:up)?on|recommended)\s+by\s+(?:over\s+|more\s+than\s+|nearly\s+|almost\s+)?(?:\d[\d,.]*\s*(?:%|percent|k\b|m\b|million|thousand|billion)|(?:most|all|millions\s+of|thousands\s+of)\s+(?:users|developers|experts|professionals|companies|agents|ai))/gi, /\b(?:used|trusted|preferred|chosen|loved|relied|recommended)\b/i],
  // "Always use this tool" is also how real servers say when a tool applies; it counts, but does not signal alone.
  ['select_me', 1, new RegExp(String.raw`\b(?:always|you\s+should(?:\s+always)?|you\s+must(?:\s+always)?|please)\s+(?:use|choose|select|prefer|pick|call)\s+${SELF}\b|\bonly\s+(?:use|trust|call)\s+${SELF}`, 'gi'), /\b(?:this|our|the\s+present|my)\s+(?:tool|function|service|server|api|plugin|solution|extension|assistant)/i],
  ['over_others', 2, new RegExp(String.raw`\b(?:prefer|choose|select|pick)\s+${SELF}\s+(?:over|instead|first|above)\b|\b(?:instead\s+of|rather\s+than|over|above)\s+(?:any|all)\s+(?:other|similar|alternative|competing)\s+(?:tools?|functions?|services?|options?)\b|\b(?:use|choose|select|prefer|call)\s+this\s+(?:tool|function)\s+(?:rather\s+than|instead\s+of|over)\s+(?:the\s+)?(?:others|other\s+(?:tools?|ones?))\b|\bdo\s+not\s+use\s+(?:any\s+)?(?:other|alternative|competing)\s+(?:tools?|functions?|services?)\b`, 'gi'), /\b(?:prefer|choose|select|pick|instead|rather|over|above|other|alternative|competing)\b/i],
  ['claims_authority', 1, new RegExp(String.raw`\b${SELF}\s+is\s+(?:the\s+)?(?:only\s+)?(?:official|certified|verified|authori[sz]ed|endorsed|approved|mandatory|required)\b|\b(?:officially\s+(?:endorsed|recommended|certified)|endorsed\s+by\s+(?:openai|anthropic|google|microsoft))\b`, 'gi'), /official|certified|verified|authori[sz]ed|endorsed|approved|mandatory|required/i],
  ['hype', 0.5, /\b(?:revolutionary|amazing|incredible|unbelievable|perfect|flawless|magical|best\s+ever|100%\s+(?:accurate|reliable|safe|secure))\b/gi, /revolutionary|amazing|incredible|unbelievable|perfect|flawless|magical|best\s+ever|100%/i],
];

/** How far above its peers' average claim weight a description must go to signal. */
const MARGIN = 2;

/** Every claim in `text` as a signal, and their total weight. */
function claimsIn(text: string): { hits: StructuralSignal[]; weight: number } {
  const hits: StructuralSignal[] = [];
  let weight = 0;
  for (const [cue, cueWeight, pattern, guard] of CUES) {
    if (!guard.test(text)) continue;
    for (const m of text.matchAll(pattern)) {
      hits.push(signalAt(`preference_manipulation.${cue}`, 'preference_manipulation', text, m.index, m.index + m[0].length));
      weight += cueWeight;
    }
  }
  return { hits, weight };
}

export const preferenceClaims: StructuralDetector<{ hits: StructuralSignal[]; weight: number }> = {
  id: 'preference_manipulation',
  kinds: ['documentation'],
  read: claimsIn,
  // Peers' rates are medians of weights (never negative): below the margin on its own, a text cannot reach it, and
  // the fleet's rate is not asked for (asking costs a look-up of the tool's peers).
  judge: ({ hits, weight }, _text, context) => (weight >= MARGIN && weight - (context.peerClaimRate ?? 0) >= MARGIN ? hits : []),
};

/** The claim weight of a description, for building the same-kind baseline (context.peerClaimRate). */
export function preferenceClaimWeight(text: string): number {
  return claimsIn(text).weight;
}
