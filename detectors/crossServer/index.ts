/**
 * The cross-server detector. Exports a factory, `createDetectors(config)`, because its window,
 * thresholds and caps are configurable (see CrossServerConfigSchema; every field optional), and
 * `detectors`, the same detector with the defaults.
 */
import type { Detector } from '../detector.js';
import { parseSettings } from '../detectorSettings.js';
import { CrossServerDetector } from './crossServerDetector.js';
import { CrossServerConfigSchema } from './crossServerConfig.js';

export { CrossServerConfigSchema, type CrossServerConfig } from './crossServerConfig.js';
export { CROSS_SERVER_RULES } from './crossServerRules.js';

/** The cross-server detector with `config` over the defaults; throws an error naming each bad field. */
export function createDetectors(config: unknown = {}): Detector[] {
  return [new CrossServerDetector(parseSettings(CrossServerConfigSchema, 'cross-server detector', config))];
}

export const detectors: Detector[] = createDetectors();
