/**
 * A Tapwire home whose detection runs as one Kafka group member on the real broker (its own topics), fed with
 * listings of the weather server's get_forecast tool: the shape of the tests of drift review on group members' state
 * (`tapwire approve`, the console).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS } from '../../pipeline/bus.js';
import { loadConfig } from '../../pipeline/config.js';
import { EmbeddedStore } from '../../pipeline/embedded/embeddedStore.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import { createLogger } from '../../pipeline/logger.js';
import { runGroupDetector } from '../../service/groupDetector.js';
import { StopSignal } from '../../service/stopSignal.js';
import { scriptEvents } from '../detectors/sessionScript.js';
import { tempHome } from './tapwireCli.js';

export interface GroupMemberHome {
  home: string;
  /** Publishes one session per entry, each listing get_forecast with the description, `minutes` after the first. */
  publishListings(listings: readonly { minutes: number; description: string }[]): Promise<void>;
  /** The host sessions of the drift alerts stored so far. */
  driftAlerts(): Promise<string[]>;
  /** Stops the member and the producer and removes the home. */
  close(): Promise<void>;
}

/** Starts the member; sessions are numbered from 1 across calls to publishListings (host session laptop/N). */
export function startGroupMemberHome(brokers: readonly string[], name: string): GroupMemberHome {
  const run = randomUUID().slice(0, 8);
  const { home, remove } = tempHome(`tapwire-${name}-group-`);
  const topics = { events: `tapwire-${name}-${run}.events`, alerts: `tapwire-${name}-${run}.alerts`, deadLetters: `tapwire-${name}-${run}.dlq`, serverEvents: `tapwire-${name}-${run}.server-events` };
  const file = join(home, 'tapwire.yaml');
  writeFileSync(file, ['bus: kafka', 'kafka:', `  brokers: ["${brokers.join('", "')}"]`, '  partitions: 2', '  sessionTimeoutMs: 6000', '  heartbeatIntervalMs: 500', '  lingerMs: 2', `  topics: ${JSON.stringify(topics)}`, ''].join('\n'));
  const config = loadConfig({ file, home });
  const stop = new StopSignal();
  const member = runGroupDetector(config, { home, logger: createLogger(`${name}-test`, 'warn'), stop });
  const producer = new KafkaBus(config.kafka ?? {}, { role: 'collector' });
  let sessions = 0;
  return {
    home,
    publishListings: async (listings) => {
      const scripted = listings.map(({ minutes, description }) => {
        sessions += 1;
        return { session: `weather-${sessions}`, hostSession: `laptop/${sessions}`, at: new Date(Date.UTC(2026, 5, 1, 9, minutes)).toISOString(), server: 'weather', command: 'node weather.js', steps: [{ tools: [{ name: 'get_forecast', description, inputSchema: { type: 'object' } }] }] };
      });
      // One key for every listing: sessions on different partitions reach the member in no set order, and the
      // scenario needs the first listing pinned before the later ones are compared with it.
      await producer.publish(TOPICS.events, scriptEvents('weather.ndjson', scripted).map((e) => ({ key: 'laptop', value: JSON.stringify(e) })));
    },
    driftAlerts: async () => {
      const store = new EmbeddedStore(join(home, 'store.sqlite'));
      try {
        return (await store.alerts({ server: 'weather' })).filter((a) => a.rule.id.startsWith('tapwire.tool-drift.')).map((a) => a.mcp?.host_session?.id ?? '');
      } finally {
        await store.close();
      }
    },
    close: async () => {
      stop.stop();
      await member;
      await producer.close();
      remove();
    },
  };
}
