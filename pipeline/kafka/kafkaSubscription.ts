/**
 * A member of a Kafka consumer group, at least once: kafkajs's eachBatch with manual offset resolution and commits.
 * Each batch goes to the handler; only once the handler resolves (its effects are durable) is the batch's last offset
 * resolved and committed. A handler failure is retried on the same batch, with heartbeats, while this member still
 * owns the partition; once a rebalance takes the partition away the batch is left uncommitted for its new owner.
 * Errors of the group itself (a rebalance noticed by a heartbeat or a commit) go back to kafkajs, which rejoins.
 */
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { BatchHandler, PartitionBatch, SubscribeOptions, Subscription } from '../bus.js';

/** Maps between Tapwire's topic names and the cluster's. */
export interface TopicNames {
  toCluster(topic: string): string;
  fromCluster(name: string): string;
}

const RETRY_MIN_MS = 250;
/**
 * Records per handler call. A fetch can hold thousands of records (1 MiB of gzip per partition); run through every
 * detector in one go on a busy machine, that outlasted a 6 s session timeout without a heartbeat, and a real broker
 * evicted the member again and again (a rebalance storm the test double never produced). Each slice is handled,
 * committed and followed by a heartbeat, as if Kafka had delivered smaller batches.
 */
export const MAX_RECORDS_PER_HANDLER = 500;
const RETRY_MAX_MS = 5000;

/** Runs `consumer` (connected, not yet subscribed) as a group member on `topics` until stop(). */
export async function runKafkaSubscription(consumer: Consumer, topics: readonly string[], names: TopicNames, handler: BatchHandler, options: SubscribeOptions & { heartbeatIntervalMs: number }): Promise<Subscription> {
  let failed: (error: Error) => void = () => undefined;
  const crashed = new Promise<never>((_, reject) => (failed = reject));
  crashed.catch(() => undefined);
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) failed(event.payload.error);
  });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const assignment = event.payload.memberAssignment as Record<string, number[]>;
    options.onAssignment?.(Object.entries(assignment).flatMap(([name, partitions]) => partitions.map((partition) => ({ topic: names.fromCluster(name), partition }))));
  });
  await consumer.subscribe({ topics: topics.map((t) => names.toCluster(t)), fromBeginning: true });
  let stopped = false;
  let stopSignal: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => (stopSignal = resolve));

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    for (let start = 0; start < payload.batch.messages.length; start += MAX_RECORDS_PER_HANDLER) {
      if (!(await handleSlice(payload, payload.batch.messages.slice(start, start + MAX_RECORDS_PER_HANDLER)))) return;
    }
  };

  /** Handles one slice of a fetched batch until it is durable, then commits it; false once the partition is lost. */
  const handleSlice = async (payload: EachBatchPayload, messages: EachBatchPayload['batch']['messages']): Promise<boolean> => {
    const { batch } = payload;
    const last = messages.at(-1);
    if (!last) return true;
    let groupError: Error | undefined;
    const owned = (): boolean => payload.isRunning() && !payload.isStale() && !stopped;
    const partitionBatch: PartitionBatch = {
      topic: names.fromCluster(batch.topic),
      partition: batch.partition,
      records: messages.map((m) => ({ offset: Number(m.offset), key: m.key?.toString('utf8') ?? '', value: m.value?.toString('utf8') ?? '', timestamp: Number(m.timestamp) })),
      owned,
      heartbeat: async () => {
        try {
          await payload.heartbeat();
        } catch (error) {
          groupError = error as Error;
          throw error;
        }
      },
    };
    for (let delay = RETRY_MIN_MS; ; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
      if (!owned()) return false;
      try {
        await handler(partitionBatch);
        break;
      } catch (error) {
        if (groupError) throw groupError;
        options.onRetry?.(error instanceof Error ? error : new Error(String(error)), partitionBatch);
        await pauseWithHeartbeats(delay, options.heartbeatIntervalMs, partitionBatch, stopping);
      }
    }
    if (!owned()) return false;
    payload.resolveOffset(last.offset);
    await payload.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(last.offset) + 1) }] }] });
    await payload.heartbeat();
    return true;
  };

  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
  const done = Promise.race([crashed, stopping]);
  done.catch(() => undefined);
  return {
    done,
    stop: async () => {
      stopped = true;
      stopSignal();
      await consumer.disconnect();
    },
  };
}

/** Waits `ms`, heartbeating so the group keeps this member while it waits; ends early when the member stops. */
async function pauseWithHeartbeats(ms: number, heartbeatIntervalMs: number, batch: PartitionBatch, stopping: Promise<void>): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && batch.owned()) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopping, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(heartbeatIntervalMs, until - Date.now()))))]);
    clearTimeout(timer);
    if (!batch.owned()) return;
    await batch.heartbeat();
  }
}
