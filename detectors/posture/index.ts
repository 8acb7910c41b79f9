/**
 * The protocol posture detectors. Exports a factory, `createDetectors(config)`, because the repeat
 * interval, storm threshold and caps are configurable (see PostureConfigSchema; every field optional),
 * and `detectors`, the same detectors with the defaults.
 */
import type { Detector } from '../detector.js';
import { parseSettings } from '../detectorSettings.js';
import { PostureFindingDetector } from './postureFindingDetector.js';
import { UnparsedStormDetector } from './unparsedStormDetector.js';
import { PostureConfigSchema } from './postureConfig.js';

export { PostureConfigSchema, type PostureConfig } from './postureConfig.js';
export { POSTURE_RULES, UNPARSED_STORM_RULE } from './postureRules.js';

/** The posture detectors with `config` over the defaults; throws an error naming each bad field. */
export function createDetectors(config: unknown = {}): Detector[] {
  const settings = parseSettings(PostureConfigSchema, 'posture detector', config);
  return [new PostureFindingDetector(settings), new UnparsedStormDetector(settings)];
}

export const detectors: Detector[] = createDetectors();
