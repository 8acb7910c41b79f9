/**
 * The home a collector records to, for what it keeps beside the bus (a stdio tap's hand-offs, either collector's
 * unrecorded notes): both collectors resolve it the same way, so it lives beside them rather than in either.
 */
import { loadConfig } from '../pipeline/config.js';
import { resolveHome } from '../pipeline/home.js';

/** The home a collector records to: --home, else the configuration's, else the default. */
export function collectorHomeRoot(home: string | undefined, configFile: string | undefined): string {
  // --home decides alone: the configuration (whose first load compiles its schema) is not read for it.
  if (home) return resolveHome(home).root;
  try {
    const config = loadConfig({ ...(configFile ? { file: configFile } : {}), ...(home ? { home } : {}) });
    return resolveHome(home ?? config.home).root;
  } catch {
    return resolveHome(home).root;
  }
}
