/**
 * Tier 1 of content detection: small structural detectors, each explainable on its own (structural/), run
 * over normalized text (textNormalization.ts). Their signals raise alerts directly (contentDetector.ts) and
 * are features of the learned tier. The order of the list is the order signals come back in.
 */
import { argumentHijack } from './structural/argumentHijack.js';
import { directedDestinations } from './structural/directedDestinations.js';
import { injectedInstructions } from './structural/injectedInstructions.js';
import { preferenceClaims } from './structural/preferenceClaims.js';
import { prerequisiteCall } from './structural/prerequisiteCall.js';
import { secrecyUrgency } from './structural/secrecyUrgency.js';
import type { SignalContext, StructuralDetector, StructuralSignal, TextKind } from './structural/structuralDetector.js';
import { toolShadowing } from './structural/toolShadowing.js';

export type { ForeignTool, SignalContext, StructuralSignal, TextKind } from './structural/structuralDetector.js';

/** Every tier-1 detector. */
export const STRUCTURAL_DETECTORS: readonly StructuralDetector[] = [toolShadowing, prerequisiteCall, argumentHijack, preferenceClaims, directedDestinations, secrecyUrgency, injectedInstructions];

/** The signals of every tier-1 detector that reads `kind` text, in detector order. `text` should be normalized. */
export function structuralSignals(text: string, kind: 'documentation' | 'content', context: SignalContext = {}): StructuralSignal[] {
  const out: StructuralSignal[] = [];
  for (const detector of STRUCTURAL_DETECTORS) if (detector.kinds.includes(kind)) out.push(...detector.find(text, context, kind));
  return out;
}
