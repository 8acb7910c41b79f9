/**
 * Detector workers as a Kafka consumer group (in this process, over the test broker): state partitioned by host
 * session and by server identity gives the same alerts with two workers as one runtime over everything, and a worker
 * cut off mid-stream (its partitions move) loses and duplicates nothing in the sink.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDetection } from '../../service/detectionSetup.js';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import { GroupDetectWorker } from '../../service/groupDetectWorker.js';
import { EmbeddedStore } from '../../pipeline/embedded/embeddedStore.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { KafkaTestBroker } from '../support/kafkaTestBroker.js';
import { detectionWorkload, publishLive, singleRuntimeAlerts } from './detectionWorkload.js';
import { until } from './waitFor.js';

let dir: string;
let broker: KafkaTestBroker;
const running: { stop(): Promise<void> }[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tapwire-group-'));
  mkdirSync(join(dir, 'state'));
  broker = await KafkaTestBroker.start({ autoCreateTopics: false });
});
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

function kafka(role: 'collector' | 'worker', clientId: string): KafkaBus {
  const bus = new KafkaBus({ brokers: broker.brokers, partitions: 4, sessionTimeoutMs: 1500, heartbeatIntervalMs: 200, lingerMs: 2 }, { role, clientId });
  running.push({ stop: () => bus.close() });
  return bus;
}

/** A worker of group "detectors" writing into the shared store file, with its partitions' state in the shared dir. */
async function startWorker(name: string): Promise<GroupDetectWorker> {
  const store = new EmbeddedStore(join(dir, 'store.sqlite'));
  const worker = new GroupDetectWorker({
    bus: kafka('worker', name),
    store,
    releaseIntervalMs: 200,
    openState: (topic, partition) => new EmbeddedStateStore(join(dir, 'state', `${topic}.${partition}.sqlite`)),
    createRuntime: (state, partitionBy) => loadDetection(state, { partitionBy }).runtime,
  });
  await worker.start();
  running.push({ stop: async () => {
    await worker.stop();
    await store.close();
  } });
  return worker;
}

/** Waits until the sink holds every event and the alerts have stopped changing, then returns the sink's contents. */
async function sinkWhenSettled(expectedEvents: number): Promise<{ events: McpEvent[]; fingerprints: string[] }> {
  const store = new EmbeddedStore(join(dir, 'store.sqlite'));
  try {
    await until(async () => (await store.events({ limit: 100_000 })).length === expectedEvents, `${expectedEvents} events in the sink`, 40_000);
    let last = -1;
    await until(async () => {
      const now = (await store.alerts({ limit: 100_000 })).length;
      const settled = now === last && broker.groupMembers('detectors').length > 0;
      last = now;
      if (!settled) await new Promise((resolve) => setTimeout(resolve, 600));
      return settled;
    }, 'alerts to settle', 40_000);
    const alerts = await store.alerts({ limit: 100_000 });
    return { events: await store.events({ limit: 100_000 }), fingerprints: alerts.map((a) => a.alert.fingerprint) };
  } finally {
    await store.close();
  }
}

describe('GroupDetectWorker', () => {
  it('two workers in one group raise exactly the alerts one runtime over every event raises', async () => {
    const events = detectionWorkload();
    const expected = singleRuntimeAlerts(events);
    // Both kinds of partitioned state are exercised: host session (cross-server) and server identity (drift, inventory).
    expect(expected.some((a) => a.rule.id.startsWith('tapwire.cross-server.'))).toBe(true);
    expect(expected.some((a) => a.rule.id.startsWith('tapwire.tool-drift.'))).toBe(true);
    expect(expected.some((a) => a.rule.id.startsWith('tapwire.server-identity.'))).toBe(true);
    const a = await startWorker('worker-a');
    const b = await startWorker('worker-b');
    await until(() => broker.groupMembers('detectors').length === 2, 'two workers in the group');
    await publishLive(kafka('collector', 'tap'), events);
    const sink = await sinkWhenSettled(events.length);
    expect(new Set(sink.events.map((e) => e.event.id)).size).toBe(events.length);
    expect([...sink.fingerprints].sort()).toEqual([...new Set(expected.map((a) => a.alert.fingerprint))].sort());
    expect(a.totals.events + b.totals.events).toBeGreaterThanOrEqual(events.length);
    expect(a.totals.serverEvents * b.totals.serverEvents).toBeGreaterThan(0);
  });

  it('loses and repeats nothing when a worker is cut off mid-stream and its partitions move to the other', async () => {
    const events = detectionWorkload();
    const expected = singleRuntimeAlerts(events);
    const doomed = await startWorker('worker-doomed');
    const survivor = await startWorker('worker-survivor');
    await until(() => broker.groupMembers('detectors').length === 2, 'two workers in the group');
    // Cut the doomed worker off right after a wave was published: it is in the middle of its batches.
    await publishLive(kafka('collector', 'tap'), events, (wave) => {
      if (wave === 8) broker.shun('worker-doomed');
    });
    expect(broker.groupMembers('detectors')).toHaveLength(1);
    const sink = await sinkWhenSettled(events.length);
    expect(new Set(sink.events.map((e) => e.event.id)).size).toBe(events.length);
    expect([...sink.fingerprints].sort()).toEqual([...new Set(expected.map((a) => a.alert.fingerprint))].sort());
    expect(doomed.totals.batches).toBeGreaterThan(0);
    expect(survivor.totals.events + doomed.totals.events).toBeGreaterThanOrEqual(events.length);
    // Lets the in-process "dead" worker reach the broker again so it can be shut down.
    broker.readmit('worker-doomed');
  });
});
