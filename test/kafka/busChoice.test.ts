/**
 * The pieces that choose and consume a bus without Kafka: a collector whose tapwire.yaml is unusable keeps its events
 * in the home's embedded bus (and says why), and the embedded bus's subscribe() commits a batch only after its
 * handler succeeded, reading a failed batch again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCollectorBus } from '../../collectors/spool/collectorBus.js';
import { TOPICS } from '../../pipeline/bus.js';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { resolveHome } from '../../pipeline/home.js';
import { until } from '../support/until.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'tapwire-bus-choice-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('openCollectorBus', () => {
  it('falls back to the embedded bus of the home when tapwire.yaml is invalid, naming the problem', async () => {
    const config = join(home, 'tapwire.yaml');
    writeFileSync(config, 'bus: kafka\nkafka:\n  brokers: nope\n');
    const warnings: string[] = [];
    const bus = openCollectorBus({ home, configFile: config, warn: (m) => warnings.push(m) });
    await bus.publish(TOPICS.events, [{ key: 'k', value: 'kept' }]);
    await bus.close(100);
    expect(warnings.join('\n')).toContain(`${config}:3:12: kafka.brokers: must be array`);
    const embedded = new EmbeddedBus(resolveHome(home).bus);
    expect((await (await embedded.consumer('audit', TOPICS.events)).poll(10)).map((r) => r.value)).toEqual(['kept']);
    await embedded.close();
  });
});

describe('EmbeddedBus.subscribe', () => {
  it('commits after the handler and reads a failed batch again from its first record', async () => {
    const bus = new EmbeddedBus(join(home, 'bus.sqlite'));
    await bus.publish(TOPICS.events, Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: `v${i}` })));
    const seen: string[] = [];
    let failures = 0;
    const subscription = await bus.subscribe('group', [TOPICS.events], async (batch) => {
      expect(batch.partition).toBe(0);
      if (failures++ === 0) throw new Error('store down');
      seen.push(...batch.records.map((r) => r.value));
    });
    await until(() => seen.length === 5, 'the batch after a failure');
    await subscription.stop();
    expect(seen).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(await bus.lag('group', TOPICS.events)).toBe(0);
    await bus.close();
  });
});
