/**
 * Every stateful detector Tapwire runs, in the order they see each event. Live workers, replay, the demo and the
 * benchmarks all build their detectors here, so they never disagree about what runs. Adding a detector is one line.
 */
import type { ContentModel } from './content/model/contentModel.js';
import { ContentModelDetector } from './content/model/contentModelDetector.js';
import { StructuralSignalDetector } from './content/structural/structuralSignalDetector.js';
import { shippedModel } from './content/model/modelArtifact.js';
import { createDetectors as createCrossServerDetectors } from './crossServer/index.js';
import type { Detector } from './detector.js';
import { FleetViewDetector } from './drift/fleetViewDetector.js';
import { ListChangedStormDetector } from './drift/listChangedStormDetector.js';
import { ToolDriftDetector } from './drift/toolDriftDetector.js';
import type { Inventory } from './inventory/inventory.js';
import { ServerIdentityDetector } from './inventory/serverIdentityDetector.js';
import { createDetectors as createPostureDetectors } from './posture/index.js';
import { createDetectors as createUsageDetectors } from './usage/index.js';

/** What detectors may be configured with. */
export interface DetectorSettings {
  /** The approved-server inventory (`--inventory FILE`), if one is configured. */
  inventory?: Inventory;
  /** Settings of the out-of-pattern usage detectors (detectors/usage/usageConfig.ts). */
  usage?: unknown;
  /** Settings of the cross-server detector (detectors/crossServer/crossServerConfig.ts). */
  crossServer?: unknown;
  /** Settings of the protocol posture detectors (detectors/posture/postureConfig.ts). */
  posture?: unknown;
  /** The learned tier's model; default the shipped one (`tapwire eval` passes each leave-one-source-out fold's). */
  contentModel?: ContentModel;
}

type DetectorFactory = (settings: DetectorSettings) => Detector | Detector[];

const DETECTORS: readonly DetectorFactory[] = [
  (s) => new ToolDriftDetector({ inventory: s.inventory }),
  () => new ListChangedStormDetector(),
  () => new FleetViewDetector(),
  (s) => new ServerIdentityDetector({ inventory: s.inventory }),
  (s) => createUsageDetectors(s.usage),
  (s) => createCrossServerDetectors(s.crossServer),
  (s) => createPostureDetectors(s.posture),
  () => new StructuralSignalDetector(),
  (s) => new ContentModelDetector(s.contentModel ?? shippedModel()),
];

/** A fresh instance of every registered detector, configured with `settings`. */
export function createDetectors(settings: DetectorSettings = {}): Detector[] {
  return DETECTORS.flatMap((create) => create(settings));
}
