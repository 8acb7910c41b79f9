/** What every collector's observer worker does before it observes: step back from the CPU, and get its redactor. */
import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { ensureHome, resolveHome } from '../pipeline/home.js';
import { Redactor } from './redaction.js';

/**
 * Lowers the calling thread's scheduling priority to `nice` (Linux lets setpriority() take a thread
 * id), so that on a busy machine forwarding wins the CPU and observation is what falls behind.
 */
export function lowerThreadPriority(nice: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // Not Linux, or not permitted: observation keeps the default priority.
  }
}

/** The home's redactor; if the home cannot be used, one with a random key (and `warn` says why). */
export function homeRedactor(home: string | undefined, warn: (message: string) => void): Redactor {
  const paths = resolveHome(home);
  try {
    ensureHome(home);
    return Redactor.forKeyFile(paths.redactionKey);
  } catch (error) {
    // Secrets are still replaced, but their hashes then correlate only within this process.
    warn(`cannot use home ${paths.root}: ${(error as Error).message}`);
    return new Redactor(randomBytes(32));
  }
}
