/**
 * Says so when the embedded bus was deleted, replaced or truncated under a home: the store's position is moved back
 * to the new log (pipeline/embedded/busReset.ts), a warning goes to stderr, and a tap.status event records it in the
 * new log, so the gap in the data is visible in the data.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { eventRecord } from '../collectors/eventPublisher.js';
import { SessionNormalizer } from '../collectors/normalizer.js';
import { Redactor } from '../collectors/redaction.js';
import { TOPICS } from '../pipeline/bus.js';
import { resetPositionsPastLogEnd } from '../pipeline/embedded/busReset.js';
import type { EmbeddedBus } from '../pipeline/embedded/embeddedBus.js';
import { tapwireVersion } from '../pipeline/packagePaths.js';
import type { Store } from '../pipeline/store.js';

/** Checks the store's position against the bus log; on a reset, warns and records a tap.status event. */
export async function noticeBusReset(bus: EmbeddedBus, store: Store, warn: (message: string) => void): Promise<void> {
  const reset = await resetPositionsPastLogEnd(bus, store);
  if (!reset) return;
  const message = `the bus log ${bus.file} ends at offset ${reset.logEnd} but the store had read up to ${reset.previousPosition}: the bus file was deleted, replaced or truncated; the store now reads the new log from its start (events of the old log not yet stored are lost)`;
  warn(message);
  // The message holds no secret; the redactor is only the normalizer's required companion.
  const normalizer = new SessionNormalizer(
    {
      sessionId: `pipeline-${randomUUID()}`,
      transport: 'stdio',
      serverId: 'tapwire:pipeline',
      serverName: 'tapwire pipeline',
      context: {
        host: { hostname: hostname(), name: hostname() },
        observer: { type: 'pipeline', product: 'tapwire', vendor: 'Tapwire', version: tapwireVersion(), hostname: hostname() },
        network: { transport: 'pipe', protocol: 'mcp' },
      },
    },
    { redactor: new Redactor(randomBytes(32)) },
  );
  const event = normalizer.lifecycle('tap.status', Date.now(), { message, outcome: 'failure', tap: { reason: 'bus_reset' } });
  bus.appendSync(TOPICS.events, [eventRecord(event)]);
}
