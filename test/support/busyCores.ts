/** Keeps every CPU core of the machine busy, as other work on a developer's laptop does, for tests that must hold under load. */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Starts one busy-loop process per core; resolves once each is running. stop() kills them. */
export async function saturateCores(count = availableParallelism()): Promise<{ stop(): Promise<void> }> {
  const loops: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const loop = spawn(process.execPath, ['-e', 'process.stdout.write("spinning\\n"); for (;;) {}'], { stdio: ['ignore', 'pipe', 'inherit'] });
    loops.push(loop);
    await new Promise<void>((resolve, reject) => {
      loop.once('error', reject);
      loop.stdout!.once('data', () => resolve());
    });
  }
  return {
    stop: async () => {
      await Promise.all(
        loops.map(
          (loop) =>
            new Promise<void>((resolve) => {
              if (loop.exitCode !== null || loop.signalCode !== null) return resolve();
              loop.once('exit', () => resolve());
              loop.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}
