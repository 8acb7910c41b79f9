import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig } from '../../pipeline/config.js';
import { kafkaClientConfig } from '../../pipeline/kafka/kafkaClientConfig.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tapwire-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(text: string, name = 'tapwire.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problems(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the embedded bus and store when no file exists', () => {
    const config = loadConfig({ home: dir, env: {} });
    expect(config).toEqual({ bus: 'embedded', store: 'embedded' });
  });

  it('reads <home>/tapwire.yaml when there is no --config or TAPWIRE_CONFIG', () => {
    const file = write('bus: kafka\nkafka:\n  brokers: [k1:9092, k2:9092]\n  topics: { events: fleet.events }\n');
    const config = loadConfig({ home: dir, env: {} });
    expect(config).toMatchObject({ bus: 'kafka', store: 'embedded', source: file, kafka: { brokers: ['k1:9092', 'k2:9092'], topics: { events: 'fleet.events' } } });
  });

  it('prefers --config over TAPWIRE_CONFIG, and TAPWIRE_CONFIG over the home file', () => {
    write('bus: embedded\n');
    const viaEnv = write('store: elasticsearch\nelasticsearch: { node: "http://es:9200" }\n', 'env.yaml');
    const explicit = write('bus: kafka\nkafka: { brokers: [b:9092] }\n', 'explicit.yaml');
    expect(loadConfig({ home: dir, env: { TAPWIRE_CONFIG: viaEnv } }).store).toBe('elasticsearch');
    expect(loadConfig({ home: dir, file: explicit, env: { TAPWIRE_CONFIG: viaEnv } }).bus).toBe('kafka');
  });

  it('names file, line and field for a wrong type, an unknown field and a bad enum value', () => {
    const file = write(['bus: kafka', 'kafka:', '  brokers:', '    - 9092', '  lingerMs: soon', 'store: opensearch', 'spool:', '  maxSize: 10'].join('\n'));
    const found = problems(() => loadConfig({ file, env: {} }));
    expect(found).toEqual(
      expect.arrayContaining([
        `${file}:4:7: kafka.brokers.0: must be string`,
        `${file}:5:13: kafka.lingerMs: must be integer`,
        `${file}:6:8: store: must be one of "embedded", "elasticsearch"`,
        `${file}:8:3: spool: unknown field 'maxSize'`,
      ]),
    );
  });

  it('reports YAML syntax errors with their line', () => {
    const file = write('bus: kafka\nkafka:\n  brokers: [a\n');
    expect(problems(() => loadConfig({ file, env: {} }))[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
  });

  it('interpolates ${VAR} and ${VAR:-default}, and names the line of an unset variable', () => {
    const file = write(['bus: kafka', 'kafka:', '  brokers: ["${BROKER}"]', '  clientId: ${CLIENT:-tapwire-fleet}', '  sasl:', '    mechanism: scram-sha-512', '    username: svc', '    password: ${KAFKA_PASSWORD}', 'spool: { dir: "$$HOME/spool" }'].join('\n'));
    const config = loadConfig({ file, env: { BROKER: 'kafka-1:9093', KAFKA_PASSWORD: 's3cret' } });
    expect(config.kafka).toMatchObject({ brokers: ['kafka-1:9093'], clientId: 'tapwire-fleet', sasl: { password: 's3cret' } });
    expect(config.spool?.dir).toBe('$HOME/spool');
    expect(problems(() => loadConfig({ file, env: { BROKER: 'b' } }))).toEqual([`${file}:8:15: environment variable KAFKA_PASSWORD is not set (referenced as \${KAFKA_PASSWORD})`]);
  });

  it('lets the environment override the file, and names the variable when its value is bad', () => {
    const file = write('bus: embedded\nstore: embedded\n');
    const config = loadConfig({ file, env: { TAPWIRE_BUS: 'kafka', KAFKA_BROKERS: 'a:1, b:2', TAPWIRE_STORE: 'elasticsearch', ELASTICSEARCH_URL: 'http://es:9200' } });
    expect(config).toMatchObject({ bus: 'kafka', store: 'elasticsearch', kafka: { brokers: ['a:1', 'b:2'] }, elasticsearch: { node: 'http://es:9200' } });
    expect(problems(() => loadConfig({ file, env: { TAPWIRE_BUS: 'rabbitmq' } }))).toEqual(['TAPWIRE_BUS: bus: must be one of "embedded", "kafka"']);
  });

  it('refuses a kafka bus without brokers and an elasticsearch store without a node', () => {
    const file = write('bus: kafka\nstore: elasticsearch\n');
    expect(problems(() => loadConfig({ file, env: {} }))).toEqual([
      `${file}:1:6: bus is kafka but kafka.brokers is not set (set it in the file or in KAFKA_BROKERS)`,
      `${file}:2:8: store is elasticsearch but elasticsearch.node is not set (set it in the file or in ELASTICSEARCH_URL)`,
    ]);
  });

  it('names a missing --config file', () => {
    expect(problems(() => loadConfig({ file: join(dir, 'nope.yaml'), env: {} }))).toEqual([`${join(dir, 'nope.yaml')}: config file not found`]);
  });

  it('redacts secrets for logs', () => {
    const file = write('bus: kafka\nkafka:\n  brokers: [b:1]\n  sasl: { mechanism: plain, username: u, password: hunter2 }\n  ssl: { key: "-----BEGIN PRIVATE KEY-----" }\nelasticsearch: { node: "http://es", apiKey: abc }\n');
    const shown = JSON.stringify(redactConfig(loadConfig({ file, env: {} })));
    expect(shown).not.toMatch(/hunter2|BEGIN PRIVATE|"abc"/);
    expect(shown).toContain('"username":"u"');
  });
});

describe('kafkaClientConfig', () => {
  it('passes SASL credentials and reads TLS material from PEM text or PEM files', () => {
    const caFile = write('-----BEGIN CERTIFICATE-----\nfrom-file\n-----END CERTIFICATE-----\n', 'ca.pem');
    const key = '-----BEGIN PRIVATE KEY-----\ninline\n-----END PRIVATE KEY-----';
    const config = kafkaClientConfig(
      { brokers: ['k:9093'], ssl: { ca: caFile, key, rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' } },
      'worker',
      'tapwire-test',
    );
    expect(config.ssl).toEqual({ ca: '-----BEGIN CERTIFICATE-----\nfrom-file\n-----END CERTIFICATE-----\n', key, rejectUnauthorized: true });
    expect(config.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 'pw' });
    expect(kafkaClientConfig({ brokers: ['k:9093'], ssl: true }, 'collector', 'c').ssl).toBe(true);
    expect(kafkaClientConfig({ brokers: ['k:9092'] }, 'collector', 'c')).not.toHaveProperty('ssl');
  });

  it('refuses an empty broker list', () => {
    expect(() => kafkaClientConfig({ brokers: [] }, 'worker', 'w')).toThrow(/kafka.brokers is empty/);
  });
});
