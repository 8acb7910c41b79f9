/**
 * Runs eval tasks on `jobs` worker threads (each with its own copy of the data and its own featurized training set),
 * handing each worker the next task when it finishes one; with one job they run in this thread. Results arrive in
 * completion order through `onResult`.
 */
import { Worker } from 'node:worker_threads';
import { EvalRunner, type EvalData, type EvalResult, type EvalTask } from './evalTasks.js';

export async function runEvalTasks(data: EvalData, tasks: readonly EvalTask[], jobs: number, onResult: (result: EvalResult) => void): Promise<void> {
  if (jobs <= 1) {
    const runner = new EvalRunner(data);
    for (const task of tasks) onResult(runner.run(task));
    return;
  }
  let next = 0;
  const workers = Array.from({ length: Math.min(jobs, tasks.length) }, () => new Worker(new URL('./evalWorker.js', import.meta.url), { workerData: data }));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              if (next >= tasks.length) return resolve();
              worker.postMessage(tasks[next++]);
            };
            worker.on('message', (result: EvalResult) => {
              onResult(result);
              feed();
            });
            worker.once('error', reject);
            worker.once('exit', (code) => (next < tasks.length || code !== 0 ? reject(new Error(`eval worker exited with code ${code}`)) : resolve()));
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
