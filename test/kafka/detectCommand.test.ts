/**
 * `tapwire detect --config` with a Kafka bus, as real processes: a worker is SIGKILLed in the middle of the stream and
 * a new one takes its partitions; the embedded store (the sink here) ends with every event once and exactly the
 * alerts one runtime over all events raises. A config error names its file and line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../pipeline/embedded/embeddedStore.js';
import { resolveHome } from '../../pipeline/home.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import { KafkaTestBroker } from '../support/kafkaTestBroker.js';
import { requireBuiltCli, runCli } from '../support/tapwireCli.js';
import { detectionWorkload, publishLive, singleRuntimeAlerts } from './detectionWorkload.js';
import { until } from '../support/until.js';

let home: string;
let broker: KafkaTestBroker;
const children: ChildProcess[] = [];

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'tapwire-detect-kafka-'));
  broker = await KafkaTestBroker.start({ autoCreateTopics: false });
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await broker.stop();
  rmSync(home, { recursive: true, force: true });
});

function writeConfig(): string {
  const file = join(home, 'tapwire.yaml');
  writeFileSync(file, ['bus: kafka', 'kafka:', `  brokers: ["${broker.brokers[0]}"]`, '  partitions: 4', '  sessionTimeoutMs: 1500', '  heartbeatIntervalMs: 200', ''].join('\n'));
  return file;
}

function startDetect(config: string): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [requireBuiltCli(), 'detect', '--home', home, '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  children.push(child);
  return { child, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

describe('tapwire detect with a Kafka bus', () => {
  it('resumes exactly where a SIGKILLed worker left off, in another process', async () => {
    const config = writeConfig();
    const events = detectionWorkload(120);
    const expected = [...new Set(singleRuntimeAlerts(events).map((a) => a.alert.fingerprint))].sort();
    const first = startDetect(config);
    await until(() => broker.groupMembers('detectors').length === 1, 'the first worker to join');
    const producer = new KafkaBus({ brokers: broker.brokers, partitions: 4 }, { role: 'collector' });
    let second: ReturnType<typeof startDetect> | undefined;
    try {
      await publishLive(producer, events, (wave) => {
        if (wave !== 3) return;
        first.child.kill('SIGKILL');
        second = startDetect(config);
      });
    } finally {
      await producer.close();
    }
    expect(await first.exited).toBeNull();
    const store = new EmbeddedStore(resolveHome(home).store);
    try {
      await until(async () => (await store.events({ limit: 100_000 })).length === events.length, 'every event in the store');
      await until(async () => (await store.alerts({ limit: 100_000 })).length >= expected.length, 'every alert in the store');
      second!.child.kill('SIGTERM');
      expect(await second!.exited).toBe(0);
      expect((await store.alerts({ limit: 100_000 })).map((a) => a.alert.fingerprint).sort()).toEqual(expected);
      expect(new Set((await store.events({ limit: 100_000 })).map((e) => e.event.id)).size).toBe(events.length);
    } finally {
      await store.close();
    }
  });

  it('refuses a bad config with its file, line and field, and --once with a Kafka bus', async () => {
    const file = join(home, 'bad.yaml');
    writeFileSync(file, 'bus: kafka\nkafka:\n  brokers: [a:9092]\n  partitions: many\n');
    const bad = await runCli(['detect', '--home', home, '--config', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${file}:4:15: kafka.partitions: must be integer`);
    const once = await runCli(['detect', '--home', home, '--config', writeConfig(), '--once']);
    expect(once.code).toBe(2);
    expect(once.stderr).toMatch(/--once needs the embedded bus/);
  });
});
