/**
 * A detector group member on the real Kafka broker keeps what the embedded worker keeps across a restart: a Sigma
 * correlation whose window spans the restart of the worker fires once, by the new member; and the scheduled roll-up
 * ticks every partition it owns at that partition's event-time watermark.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Detector, PartitionBy } from '../../detectors/detector.js';
import { DetectorRuntime } from '../../detectors/detectorRuntime.js';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import { RuleSet } from '../../detectors/sigma/ruleSet.js';
import { eventRecord } from '../../collectors/eventPublisher.js';
import { TOPICS } from '../../pipeline/bus.js';
import type { KafkaSettings } from '../../pipeline/config.js';
import { EmbeddedStore } from '../../pipeline/embedded/embeddedStore.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { GroupDetectWorker } from '../../service/groupDetectWorker.js';
import { toolCall } from '../sigma/mcpEvents.js';
import { realKafkaBrokers, SKIPPED_WITHOUT_ENGINES } from '../support/realEngines.js';
import { until } from '../support/until.js';

const brokers = realKafkaBrokers('groupCorrelation.test.ts') ?? [];
const title = (what: string) => `${what} (${brokers.length ? brokers.join(',') : SKIPPED_WITHOUT_ENGINES})`;

/** Three reads of ~/.ssh in one session within 10 minutes: the staged exfiltration the correlation looks for. */
const CORRELATION = `title: Repeated SSH key reads
id: 6f7d3c2e-0b7e-4f63-9a55-0c6f3a1f9d10
level: high
tags: [tapwire.category.anomalous_tool_use, atlas.aml.t0051]
correlation:
    type: event_count
    rules: [ssh_read]
    group-by: [mcp.session.id]
    timespan: 10m
    condition: {gte: 3}
---
title: SSH key read
id: 2b1e6a44-64c1-4b59-8d0e-3f0d8a2c7e11
name: ssh_read
logsource:
    product: mcp
    category: tool_call
detection:
    sel:
        gen_ai.tool.call.arguments.path|contains: '/.ssh/'
    condition: sel
`;
const CORRELATION_ID = '6f7d3c2e-0b7e-4f63-9a55-0c6f3a1f9d10';
const T0 = Date.parse('2025-06-01T12:00:00.000Z');

/** The nth read of the scenario, `seconds` after T0 (all inside one 5-minute roll-up interval of event time). */
function sshRead(n: number, seconds: number): McpEvent {
  return toolCall('read_file', { path: `/home/dev/.ssh/id_${n}` }, { at: new Date(T0 + seconds * 1000).toISOString(), session: 'exfil', sequence: n });
}

let dir: string;
let run: string;
const running: { stop(): Promise<void> }[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tapwire-group-corr-'));
  mkdirSync(join(dir, 'rules'));
  mkdirSync(join(dir, 'state'));
  writeFileSync(join(dir, 'rules', 'ssh-reads.yml'), CORRELATION);
  run = randomUUID().slice(0, 8);
});
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

function settings(): KafkaSettings {
  return { brokers, partitions: 2, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, lingerMs: 2, topics: { events: `tapwire-corr-${run}.events`, alerts: `tapwire-corr-${run}.alerts`, deadLetters: `tapwire-corr-${run}.dlq`, serverEvents: `tapwire-corr-${run}.server-events` } };
}

function bus(role: 'collector' | 'worker'): KafkaBus {
  const opened = new KafkaBus(settings(), { role, clientId: `corr-${run}-${role}-${running.length}` });
  running.push({ stop: () => opened.close() });
  return opened;
}

/** A roll-up probe: remembers at which event time each partitioning was ticked outside the event-time schedule. */
function tickProbe(partitionBy: PartitionBy, ticks: { partitionBy: PartitionBy; now: number }[]): Detector {
  return { id: `test.tick-probe.${partitionBy}`, partitionBy, onEvent: () => [], onTick: ({ now }) => (ticks.push({ partitionBy, now }), []) };
}

/** A group member with the correlation rule, whose state and store live in the test's directory. */
async function startWorker(ticks: { partitionBy: PartitionBy; now: number }[] = []): Promise<{ worker: GroupDetectWorker; stop(): Promise<void> }> {
  const store = new EmbeddedStore(join(dir, 'store.sqlite'));
  const rules = RuleSet.load(join(dir, 'rules'));
  const worker = new GroupDetectWorker({
    bus: bus('worker'),
    store,
    group: `corr-${run}`,
    releaseIntervalMs: 100,
    openState: (topic, partition) => new EmbeddedStateStore(join(dir, 'state', `${topic}.${partition}.sqlite`)),
    createRuntime: (state, partitionBy) => new DetectorRuntime(state, { detectors: [tickProbe(partitionBy, ticks)], ...(partitionBy === 'host_session' ? { rules } : {}), reorderLatenessMs: 2000 }),
  });
  await worker.start();
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= worker.stop().then(() => store.close()));
  running.push({ stop });
  return { worker, stop };
}

async function correlationAlerts(): Promise<string[][]> {
  const store = new EmbeddedStore(join(dir, 'store.sqlite'));
  try {
    return (await store.alerts({ ruleId: CORRELATION_ID })).map((a) => a.alert.source_event_ids);
  } finally {
    await store.close();
  }
}

describe.skipIf(brokers.length === 0)('a detector group member on a real Kafka broker', () => {
  it(title('fires a correlation whose window spans a restart of the worker exactly once, and rolls up every owned partition'), async () => {
    const producer = bus('collector');
    const group = `corr-${run}`;
    const publish = (events: McpEvent[]) => producer.publish(TOPICS.events, events.map(eventRecord));
    const caughtUp = async () => (await producer.lag(group, TOPICS.events)) === 0 && (await producer.lag(group, TOPICS.serverEvents)) === 0;
    const reads = [sshRead(1, 0), sshRead(2, 30), sshRead(3, 60), sshRead(4, 90)];

    // Two reads, then the worker stops: the window is open, with two of the three reads it needs.
    const first = await startWorker();
    await publish(reads.slice(0, 2));
    await until(async () => (await caughtUp()) && first.worker.totals.events === 2, 'the first worker to process two reads', 60_000);
    await first.stop();
    expect(await correlationAlerts()).toEqual([]);

    // A new member takes over and sees the third read: the window it rebuilt from the partition's state closes.
    const ticks: { partitionBy: PartitionBy; now: number }[] = [];
    const second = await startWorker(ticks);
    await publish([reads[2]!]);
    await until(async () => (await correlationAlerts()).length > 0, 'the correlation alert', 60_000);
    expect(second.worker.totals.warmed).toBe(2);
    expect(await correlationAlerts()).toEqual([['exfil:1', 'exfil:2', 'exfil:3']]);

    // The scheduled roll-up ticks the events partition and the server partition at the latest event time they saw.
    await until(async () => (await caughtUp()) && second.worker.held === 0, 'both partitions to run every read', 60_000);
    expect(ticks).toEqual([]);
    await second.worker.tick();
    expect(ticks.sort((a, b) => a.partitionBy.localeCompare(b.partitionBy))).toEqual([
      { partitionBy: 'host_session', now: T0 + 60_000 },
      { partitionBy: 'server', now: T0 + 60_000 },
    ]);
    await second.stop();

    // A third member replays the three reads into its window without raising them again; a fourth read alone is
    // not three reads, so the one alert stays the only one.
    const third = await startWorker();
    await publish([reads[3]!]);
    await until(async () => (await caughtUp()) && third.worker.totals.events === 1 && third.worker.totals.serverEvents === 1, 'the fourth read', 60_000);
    expect(third.worker.totals.warmed).toBe(3);
    expect(await correlationAlerts()).toEqual([['exfil:1', 'exfil:2', 'exfil:3']]);
  });
});
