/**
 * Turns the `kafka` section of tapwire.yaml into a kafkajs client configuration: brokers, TLS (PEM text or PEM file
 * paths, servername; handshake errors reworded by kafkaTlsSocket.ts), SASL (plain, SCRAM-SHA-256/512), and kafkajs's own logging routed into pino. Collectors and workers differ
 * in how long the client keeps retrying: a collector gives up quickly because its spool takes over, a worker rides
 * out an outage.
 */
import { readFileSync } from 'node:fs';
import { logLevel, type KafkaConfig, type LogEntry, type RetryOptions, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaSaslSettings, KafkaSettings, KafkaTlsSettings } from '../config.js';
import type { Logger } from '../logger.js';
import { tlsSocketFactory } from './kafkaTlsSocket.js';

/** Who uses the client: a collector (taps, proxy), a worker (detectors), or a short-lived command. */
export type KafkaRole = 'collector' | 'worker' | 'command';

/** Retries of the client's requests (and the producer's sends), per role. */
export const KAFKA_RETRY: Record<KafkaRole, RetryOptions> = {
  // A collector's failed publish goes to its spool; retrying here would only hold events in memory.
  collector: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
  worker: { retries: 12, initialRetryTime: 300, maxRetryTime: 5000 },
  command: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
};

/** The kafkajs client configuration for `settings`, with `clientId` naming this process to the cluster. */
export function kafkaClientConfig(settings: KafkaSettings, role: KafkaRole, clientId: string, logger?: Logger): KafkaConfig {
  const brokers = settings.brokers ?? [];
  if (brokers.length === 0) throw new Error('kafka.brokers is empty: set it in tapwire.yaml or KAFKA_BROKERS');
  return {
    clientId,
    brokers,
    connectionTimeout: role === 'collector' ? 1000 : 3000,
    requestTimeout: 30_000,
    retry: KAFKA_RETRY[role],
    ...(settings.ssl !== undefined && settings.ssl !== false ? tlsConfig(settings.ssl) : {}),
    ...(settings.sasl ? { sasl: saslOptions(settings.sasl) } : {}),
    // kafkajs's errors only: Tapwire logs rebalances and retries itself, with their context.
    logLevel: logger ? logLevel.ERROR : logLevel.NOTHING,
    ...(logger ? { logCreator: () => (entry: LogEntry) => logKafkaEntry(logger, entry) } : {}),
  };
}

/** TLS on every connection, through sockets whose handshake errors name the setting to fix (kafkaTlsSocket.ts). */
function tlsConfig(tls: true | KafkaTlsSettings): Pick<KafkaConfig, 'ssl' | 'socketFactory'> {
  const ca = tls === true || tls.ca === undefined ? "Node's bundled root CAs (set kafka.ssl.ca for a private CA)" : `the CA in kafka.ssl.ca (${tls.ca.includes('-----BEGIN') ? 'PEM text' : tls.ca})`;
  return { ssl: tls === true ? true : tlsOptions(tls), socketFactory: tlsSocketFactory(ca) };
}

/** TLS options: each of ca, cert and key is PEM text, or the path of a PEM file (a file that cannot be read names its field). */
function tlsOptions(tls: KafkaTlsSettings): ConnectionOptions {
  const pem = (field: 'ca' | 'cert' | 'key'): string | undefined => {
    const value = tls[field];
    if (value === undefined || value.includes('-----BEGIN')) return value;
    try {
      return readFileSync(value, 'utf8');
    } catch (error) {
      throw new Error(`kafka.ssl.${field}: cannot read ${value}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const ca = pem('ca');
  const cert = pem('cert');
  const key = pem('key');
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
    ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
  };
}

/** SASL credentials; kafkajs types each mechanism separately. */
function saslOptions(sasl: KafkaSaslSettings): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

function logKafkaEntry(logger: Logger, entry: LogEntry): void {
  const { message, timestamp: _timestamp, ...extra } = entry.log;
  const fields = { kafka: entry.namespace, ...extra };
  if (entry.level === logLevel.ERROR) logger.error(fields, message);
  else if (entry.level === logLevel.WARN) logger.warn(fields, message);
  else logger.debug(fields, message);
}
