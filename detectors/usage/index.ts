/**
 * The out-of-pattern usage detectors. Exports a factory, `createDetectors(config)`, because their
 * learning period, thresholds and caps are configurable (see UsageConfigSchema; every field optional),
 * and `detectors`, the same detectors with the defaults.
 */
import type { Detector } from '../detector.js';
import { parseSettings } from '../detectorSettings.js';
import { PrincipalUsageDetector } from './principalUsageDetector.js';
import { ToolUsageDetector } from './toolUsageDetector.js';
import { UsageConfigSchema } from './usageConfig.js';

export { UsageConfigSchema, type UsageConfig } from './usageConfig.js';
export { USAGE_RULES } from './usageRules.js';

/** The usage detectors with `config` over the defaults; throws an error naming each bad field. */
export function createDetectors(config: unknown = {}): Detector[] {
  const settings = parseSettings(UsageConfigSchema, 'usage detector', config);
  return [new ToolUsageDetector(settings), new PrincipalUsageDetector(settings)];
}

export const detectors: Detector[] = createDetectors();
