/**
 * A consumer-group member built from a bus's polling consumers: what the embedded bus offers as subscribe(). Each
 * topic is one partition and the process is the group's only member (the embedded bus has no group membership), so
 * the member owns everything until it stops. Batches are committed after the handler resolves; a failed batch is
 * read again from the last commit after a pause.
 */
import type { BatchHandler, Bus, BusConsumer, PartitionBatch, SubscribeOptions, Subscription } from './bus.js';

export interface PollingOptions extends SubscribeOptions {
  /** Records per batch (default 500). */
  batchSize?: number;
  /** Pause when every topic is caught up (default 250 ms). */
  idleMs?: number;
  /** Pause before a failed batch is retried (default 1000 ms). */
  retryDelayMs?: number;
}

/** Subscribes `group` to `topics` through `bus.consumer()`; resolves once every consumer is open. */
export async function pollingSubscription(bus: Bus, group: string, topics: readonly string[], handler: BatchHandler, options: PollingOptions = {}): Promise<Subscription> {
  const consumers = await Promise.all(topics.map(async (topic) => ({ topic, consumer: await bus.consumer(group, topic) })));
  options.onAssignment?.(topics.map((topic) => ({ topic, partition: 0 })));
  let stopping = false;
  let wake: () => void = () => undefined;
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const step = async (entry: { topic: string; consumer: BusConsumer }): Promise<boolean> => {
    const records = await entry.consumer.poll(options.batchSize ?? 500);
    const last = records.at(-1);
    if (!last) return false;
    const batch: PartitionBatch = { topic: entry.topic, partition: 0, records, owned: () => !stopping, heartbeat: async () => undefined };
    try {
      await handler(batch);
    } catch (error) {
      // Offsets only grow, so the record before the batch's first is where the batch is read again from.
      entry.consumer.seek((records[0] as { offset: number }).offset - 1);
      options.onRetry?.(error instanceof Error ? error : new Error(String(error)), batch);
      await pause(options.retryDelayMs ?? 1000);
      return false;
    }
    await entry.consumer.commit(last.offset);
    return true;
  };
  const done = (async () => {
    try {
      while (!stopping) {
        let worked = false;
        for (const entry of consumers) if (!stopping && (await step(entry))) worked = true;
        if (!worked && !stopping) await pause(options.idleMs ?? 250);
      }
    } finally {
      await Promise.all(consumers.map((entry) => entry.consumer.close()));
    }
  })();
  return {
    done,
    stop: async () => {
      stopping = true;
      wake();
      await done;
    },
  };
}

