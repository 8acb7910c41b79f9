/** A worker thread of `tapwire eval`: holds one copy of the data and runs the tasks it is sent (evalTasks.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { EvalRunner, type EvalData, type EvalTask } from './evalTasks.js';

const runner = new EvalRunner(workerData as EvalData);
parentPort?.on('message', (task: EvalTask) => {
  parentPort?.postMessage(runner.run(task));
});
