/**
 * The demo's detection step, once its host has finished: the detectors (with the demo inventory) run over everything
 * the taps recorded. A tap on a busy machine hands its session off instead of recording it, and no tap starts after
 * the demo's last one exits to record it: the hand-offs are recorded here first, or the detectors would drain a bus
 * without those sessions while the report (a query command, which records them) shows their events.
 */
import { recoverHomeHandoffs } from '../../collectors/stdio/handoffRecovery.js';
import { openHomeDetector } from '../../service/detectionSetup.js';
import { writeDemoInventory } from './demoInventory.js';

/** Records the home's hand-offs, then runs the detectors over its whole bus; returns the inventory they used. */
export async function detectDemo(home: string): Promise<string> {
  const inventory = writeDemoInventory(home);
  await recoverHomeHandoffs({ home, warn: (message) => process.stderr.write(`tapwire: ${message}\n`) });
  const detector = await openHomeDetector(home, { inventory });
  try {
    await detector.worker.drain();
    await detector.worker.releaseHeld();
  } finally {
    await detector.close();
  }
  return inventory;
}
