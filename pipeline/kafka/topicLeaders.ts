/**
 * Waiting for new topics to be served. kafkajs's createTopics({ waitForLeaders }) retries only LEADER_NOT_AVAILABLE,
 * but a busy KRaft broker answers metadata for a topic it has just created with UNKNOWN_TOPIC_OR_PARTITION until
 * the creation reaches its metadata cache: kafkajs then gives up, and the first publish of a collector failed with
 * "This server does not host this topic-partition" on a loaded machine. Every retriable answer is waited out here,
 * up to a bound, and anything else fails at once.
 */
import type { Admin } from 'kafkajs';

/** How long new topics may take to get leaders before the creation is reported as failed. */
export const TOPIC_LEADERS_TIMEOUT_MS = 60_000;

/** Resolves once every partition of every topic has a leader; rejects on a non-retriable error or at the bound. */
export async function waitForTopicLeaders(admin: Admin, topics: readonly string[], timeoutMs = TOPIC_LEADERS_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
    let waitingFor: string;
    try {
      const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] });
      const leaderless = topics.filter((name) => {
        const partitions = described.find((t) => t.name === name)?.partitions ?? [];
        return partitions.length === 0 || partitions.some((p) => p.leader < 0);
      });
      if (leaderless.length === 0) return;
      waitingFor = `no leader yet for ${leaderless.join(', ')}`;
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable) throw error;
      waitingFor = (error as Error).message;
    }
    if (Date.now() + pause > deadline) throw new Error(`Kafka topics ${topics.join(', ')} were created but not served within ${timeoutMs / 1000} s (${waitingFor})`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
