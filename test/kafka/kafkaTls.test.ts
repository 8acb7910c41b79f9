/**
 * The Kafka bus over TLS against the real broker's TLS listener (scripts/services.sh opens it on 127.0.0.1 with a
 * test CA and requires a client certificate; it prints KAFKA_TLS_BROKERS and the PEM files). What is checked is what
 * an operator configures in tapwire.yaml: the CA file, the client certificate and key, and the servername the
 * broker's certificate is checked against. A CA the broker's certificate does not chain to, a servername the
 * certificate does not name, and a missing client certificate are each refused, with an error that says so.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../pipeline/bus.js';
import { loadConfig, type KafkaSettings, type KafkaTlsSettings } from '../../pipeline/config.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import { realKafkaBrokers, SKIPPED_WITHOUT_ENGINES } from '../support/realEngines.js';
import { until } from '../support/until.js';

// The plaintext listener creates the run's topics (the TLS listener is the same broker); absent → the test skips.
const plainBrokers = realKafkaBrokers('kafkaTls.test.ts') ?? [];
const tlsBrokers = (process.env.KAFKA_TLS_BROKERS ?? '').split(',').filter(Boolean);
const files = { ca: process.env.KAFKA_TLS_CA_FILE ?? '', cert: process.env.KAFKA_TLS_CERT_FILE ?? '', key: process.env.KAFKA_TLS_KEY_FILE ?? '' };
const ready = plainBrokers.length > 0 && tlsBrokers.length > 0;
// In CI a broker without its TLS listener fails the run, as a missing engine does (test/support/realEngines.ts).
if (process.env.CI === 'true' && plainBrokers.length > 0 && !ready) {
  throw new Error('kafkaTls.test.ts: KAFKA_TLS_BROKERS is not set; the broker was started without its TLS listener (scripts/services.sh down kafka && scripts/services.sh up kafka)');
}
const title = (what: string) => `${what} (${ready ? tlsBrokers.join(',') : `${SKIPPED_WITHOUT_ENGINES}; needs KAFKA_TLS_BROKERS`})`;

const scratch = mkdtempSync(join(tmpdir(), 'tapwire-kafka-tls-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A self-signed CA of the test's own, which signed nothing the broker holds. */
function foreignCa(): string {
  const ca = join(scratch, 'foreign-ca.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(scratch, 'foreign-ca.key'), '-out', ca, '-days', '1', '-subj', '/CN=Not the broker CA'], { stdio: 'ignore' });
  return ca;
}

/** Settings with topics of this run's own: over TLS with `ssl`, over the plaintext listener without. */
function settingsOf(run: string, ssl?: KafkaTlsSettings): KafkaSettings {
  const topics = { events: `tapwire-tls-${run}.events`, alerts: `tapwire-tls-${run}.alerts`, deadLetters: `tapwire-tls-${run}.dlq`, serverEvents: `tapwire-tls-${run}.server-events` };
  return ssl ? { brokers: tlsBrokers, partitions: 1, topics, ssl } : { brokers: plainBrokers, partitions: 1, topics };
}

describe.skipIf(!ready)('KafkaBus over TLS on the real broker', () => {
  it(title('produces and consumes over TLS configured in tapwire.yaml: CA file, client certificate, servername'), async () => {
    const run = randomUUID().slice(0, 8);
    // Through the config loader, as an operator writes it: the servername is the certificate's DNS name, not the address.
    const configFile = join(scratch, `tapwire-${run}.yaml`);
    const yaml = ['bus: kafka', 'kafka:', `  brokers: [${tlsBrokers.join(', ')}]`, '  ssl:', `    ca: ${files.ca}`, `    cert: ${files.cert}`, `    key: ${files.key}`, '    servername: localhost', ''].join('\n');
    writeFileSync(configFile, yaml);
    const ssl = loadConfig({ file: configFile, env: {} }).kafka?.ssl as KafkaTlsSettings;
    expect(ssl).toEqual({ ca: files.ca, cert: files.cert, key: files.key, servername: 'localhost' });
    const creator = new KafkaBus(settingsOf(run), { role: 'command' });
    await creator.ensureTopics();
    await creator.close();
    const producer = new KafkaBus(settingsOf(run, ssl), { role: 'collector' });
    const consumer = new KafkaBus(settingsOf(run, ssl), { role: 'worker' });
    try {
      const values = Array.from({ length: 20 }, (_, i) => `over tls ${i}`);
      await producer.publish(TOPICS.events, values.map((value, i) => ({ key: `s${i % 3}`, value })));
      const seen: string[] = [];
      await consumer.subscribe(`tapwire-tls-${run}`, [TOPICS.events], async (batch) => void seen.push(...batch.records.map((r) => r.value)));
      await until(() => seen.length >= values.length, 'the records over TLS', 60_000);
      expect(seen.sort()).toEqual([...values].sort());
    } finally {
      await consumer.close();
      await producer.close();
    }
  });

  it(title('refuses a broker whose certificate does not chain to the configured CA, and says so'), async () => {
    const ca = foreignCa();
    const bus = new KafkaBus(settingsOf(randomUUID().slice(0, 8), { ca, cert: files.cert, key: files.key }), { role: 'command' });
    try {
      const refusal = `TLS to ${tlsBrokers[0]}: the broker's certificate is not signed by the CA in kafka.ssl.ca (${ca})`;
      await expect(bus.publish(TOPICS.events, [{ key: 'k', value: 'must not arrive' }])).rejects.toThrow(refusal);
    } finally {
      await bus.close();
    }
  });

  it(title('refuses a servername the broker certificate does not name'), async () => {
    const bus = new KafkaBus(settingsOf(randomUUID().slice(0, 8), { ca: files.ca, cert: files.cert, key: files.key, servername: 'kafka.example.org' }), { role: 'command' });
    try {
      await expect(bus.publish(TOPICS.events, [{ key: 'k', value: 'must not arrive' }])).rejects.toThrow(`TLS to ${tlsBrokers[0]}: the broker's certificate does not name kafka.example.org`);
    } finally {
      await bus.close();
    }
  });

  it(title('is refused by the broker without a client certificate, and says so'), async () => {
    const bus = new KafkaBus(settingsOf(randomUUID().slice(0, 8), { ca: files.ca }), { role: 'command' });
    try {
      await expect(bus.publish(TOPICS.events, [{ key: 'k', value: 'must not arrive' }])).rejects.toThrow(`TLS to ${tlsBrokers[0]}: the broker refused the client certificate`);
    } finally {
      await bus.close();
    }
  });
});

describe('Kafka TLS settings', () => {
  it('name the field of a CA file that cannot be read', () => {
    expect(() => new KafkaBus({ brokers: ['127.0.0.1:9'], ssl: { ca: join(scratch, 'missing-ca.pem') } }, { role: 'command' })).toThrow(/kafka\.ssl\.ca: cannot read .*missing-ca\.pem: ENOENT/);
  });
});
