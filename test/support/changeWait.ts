import type { EventEmitter } from 'node:events';

/**
 * Resolves once `ready` holds. It is checked on each 'data' event of `changes` (a process's output), and every 50 ms
 * as well for conditions nothing signals (the embedded bus has no change events): a wait on conditions, not on time.
 */
export async function untilChanged(changes: EventEmitter, ready: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await ready())) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        changes.off('data', done);
        resolve();
      };
      const timer = setTimeout(done, 50);
      changes.once('data', done);
    });
  }
}
