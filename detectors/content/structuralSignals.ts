/**
 * Tier 1 of content detection: small structural detectors, each explainable on its own (structural/), run
 * over normalized text (textNormalization.ts). Their signals raise alerts directly (contentDetector.ts) and
 * are features of the learned tier. The order of the list is the order signals come back in.
 */
import { argumentHijack } from './structural/argumentHijack.js';
import { directedDestinations } from './structural/directedDestinations.js';
import { harmfulCapability } from './structural/harmfulCapability.js';
import { injectedInstructions } from './structural/injectedInstructions.js';
import { preferenceClaims } from './structural/preferenceClaims.js';
import { prerequisiteCall } from './structural/prerequisiteCall.js';
import { secrecyUrgency } from './structural/secrecyUrgency.js';
import type { SignalContext, StructuralDetector, StructuralSignal, TextKind } from './structural/structuralDetector.js';
import { toolShadowing } from './structural/toolShadowing.js';
import { undisclosedTransfer } from './structural/undisclosedTransfer.js';

export type { ForeignTool, SignalContext, StructuralSignal, TextKind } from './structural/structuralDetector.js';

/** Every tier-1 detector. */
export const STRUCTURAL_DETECTORS: readonly StructuralDetector[] = [toolShadowing, prerequisiteCall, argumentHijack, preferenceClaims, directedDestinations, secrecyUrgency, injectedInstructions, harmfulCapability, undisclosedTransfer];

/** What each tier-1 detector reads in `kind` text, independent of context (undefined for detectors that skip the kind). */
export type StructuralReadings = readonly unknown[];

/** Every detector's reading of `text` (normalized). */
export function readStructure(text: string, kind: TextKind): StructuralReadings {
  return STRUCTURAL_DETECTORS.map((detector) => (detector.kinds.includes(kind) ? detector.read(text, kind) : undefined));
}

/** The signals of readings of `text`, given the context, in detector order. */
export function judgeStructure(readings: StructuralReadings, text: string, context: SignalContext): StructuralSignal[] {
  const out: StructuralSignal[] = [];
  STRUCTURAL_DETECTORS.forEach((detector, i) => {
    if (readings[i] !== undefined) out.push(...detector.judge(readings[i], text, context));
  });
  return out;
}

/** The signals of every tier-1 detector that reads `kind` text, in detector order. `text` should be normalized. */
export function structuralSignals(text: string, kind: TextKind, context: SignalContext = {}): StructuralSignal[] {
  return judgeStructure(readStructure(text, kind), text, context);
}
