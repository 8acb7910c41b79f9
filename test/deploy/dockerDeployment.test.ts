import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../pipeline/config.js';
import { packageRoot } from '../../pipeline/packagePaths.js';

const DEPLOY = join(packageRoot(), 'deploy');
const COMPOSE_FILE = join(DEPLOY, 'docker-compose.yml');
const ENV_EXAMPLE = join(DEPLOY, '.env.example');
const composeText = readFileSync(COMPOSE_FILE, 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  restart?: string;
  volumes?: string[];
  ports?: string[];
}

const compose = parse(composeText, { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const envExample = new Map(
  readFileSync(ENV_EXAMPLE, 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
);

/** `docker-compose` (Debian's package) validates a compose file without a Docker engine. */
const composeCli = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const COMPOSE_SKIP = 'skipped: docker-compose is not installed (apt-get install docker-compose)';
if (!composeCli) console.warn(`dockerDeployment.test.ts: compose validation ${COMPOSE_SKIP}`);

describe('deploy/docker-compose.yml', () => {
  it.skipIf(!composeCli)(`is valid for docker-compose config${composeCli ? '' : ` (${COMPOSE_SKIP})`}`, () => {
    const result = spawnSync('docker-compose', ['-f', COMPOSE_FILE, '--env-file', ENV_EXAMPLE, 'config', '--quiet'], { encoding: 'utf8', cwd: DEPLOY });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs Kafka (KRaft, single node), Elasticsearch, Kibana, a setup job, two detector workers and the proxy', () => {
    expect(Object.keys(services).sort()).toEqual(['detector', 'elasticsearch', 'kafka', 'kibana', 'kibana-password', 'proxy', 'setup']);
    const kafka = services.kafka!;
    // The Kafka 4 version CI's real-engine tests run (scripts/services.sh resolves it from Maven Central).
    const tested = /KAFKA_VERSION=\$\{TAPWIRE_KAFKA_VERSION:-([0-9.]+)\}/.exec(readFileSync(join(packageRoot(), 'scripts', 'services.sh'), 'utf8'))![1]!;
    expect(tested).toMatch(/^4\./);
    expect(kafka.image).toBe(`apache/kafka:${tested}`);
    expect(kafka.environment).toMatchObject({ KAFKA_PROCESS_ROLES: 'broker,controller', KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka:9093', KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:9092,EXTERNAL://${KAFKA_EXTERNAL_HOST:-localhost}:29092' });
    expect(JSON.stringify(kafka)).not.toMatch(/zookeeper/i);
    // Client and server majors must match: the store uses the 9.x client.
    expect(services.elasticsearch!.image).toBe('docker.elastic.co/elasticsearch/elasticsearch:${ELASTIC_VERSION:-9.4.0}');
    expect(services.kibana!.image).toBe('docker.elastic.co/kibana/kibana:${ELASTIC_VERSION:-9.4.0}');
    expect(envExample.get('ELASTIC_VERSION')).toMatch(/^9\./);
    expect(services.detector!.deploy?.replicas).toBe(2);
    expect(services.detector!.command).toEqual(['detect']);
    expect(services.proxy!.command?.slice(0, 3)).toEqual(['proxy', '--listen', '0.0.0.0:8080']);
    expect(services.setup!.command?.join(' ')).toMatch(/^tapwire es setup && tapwire kibana import --url http:\/\/kibana:5601/);
    expect(services.kibana!.environment).toHaveProperty('XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY');
  });

  it('starts services only after what they need is healthy or done', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services[target], `${name} depends on ${target}`).toBeDefined();
        if (condition === 'service_healthy') expect(services[target]!.healthcheck, `${target} has a healthcheck (${name} waits for it)`).toBeDefined();
        else if (condition === 'service_completed_successfully') expect(services[target]!.restart, `${target} is a one-shot job`).toBe('no');
        else throw new Error(`${name}: unexpected condition ${condition}`);
      }
    }
    expect(services.setup!.depends_on).toEqual({ elasticsearch: { condition: 'service_healthy' }, kibana: { condition: 'service_healthy' } });
    expect(services.detector!.depends_on).toMatchObject({ kafka: { condition: 'service_healthy' }, setup: { condition: 'service_completed_successfully' } });
    expect(services.kibana!.depends_on).toEqual({ 'kibana-password': { condition: 'service_completed_successfully' } });
    // No cycles: a topological order exists.
    const order: string[] = [];
    const visit = (name: string, path: string[]): void => {
      if (path.includes(name)) throw new Error(`dependency cycle: ${[...path, name].join(' → ')}`);
      if (order.includes(name)) return;
      for (const target of Object.keys(services[name]!.depends_on ?? {})) visit(target, [...path, name]);
      order.push(name);
    };
    for (const name of Object.keys(services)) visit(name, []);
    expect(order.indexOf('setup')).toBeLessThan(order.indexOf('detector'));
  });

  it('defines every variable it uses in .env.example, or gives it a default', () => {
    const used = [...composeText.matchAll(/(?<!\$)\$\{([A-Z_]+)(:?[-?][^}]*)?\}/g)].map((m) => ({ name: m[1]!, fallback: m[2]?.startsWith(':-') || m[2]?.startsWith('-') }));
    const missing = used.filter((u) => !u.fallback && !envExample.has(u.name)).map((u) => u.name);
    expect([...new Set(missing)]).toEqual([]);
    expect(used.length).toBeGreaterThan(5);
  });

  it('runs the Tapwire services from the image built by deploy/Dockerfile, with a config that selects Kafka and Elasticsearch', () => {
    const tapwire = ['setup', 'detector', 'proxy'].map((name) => services[name]!);
    for (const service of tapwire) {
      expect(service.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
      expect(service.environment?.TAPWIRE_CONFIG).toBe('/etc/tapwire/tapwire.yaml');
      expect(service.volumes).toContain('./tapwire.yaml:/etc/tapwire/tapwire.yaml:ro');
    }
    // The replicas share one named home volume: a partition's detector state file must follow the
    // partition when a rebalance moves it to the other replica.
    expect(services.detector!.volumes?.filter((v) => v.endsWith(':/var/lib/tapwire'))).toEqual(['detector-home:/var/lib/tapwire']);
    const config = loadConfig({ file: join(DEPLOY, 'tapwire.yaml'), env: { ELASTIC_PASSWORD: envExample.get('ELASTIC_PASSWORD')! } });
    expect(config).toMatchObject({ bus: 'kafka', store: 'elasticsearch', kafka: { brokers: ['kafka:9092'] }, elasticsearch: { node: 'http://elasticsearch:9200', password: 'change-me-elastic' } });
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages = instructions.filter((line) => line.startsWith('FROM '));

  it('builds in stages and runs the last one as an unprivileged user', () => {
    expect(stages.map((line) => line.split(/\s+/).slice(-1)[0])).toEqual(['build', 'runtime']);
    const runtime = instructions.slice(instructions.indexOf(stages[1]!));
    const users = runtime.filter((line) => line.startsWith('USER '));
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/^USER\s+(root|0)(:|$)/);
    expect(runtime.indexOf(users[0]!)).toBeGreaterThan(runtime.findLastIndex((line) => line.startsWith('RUN ')));
    expect(runtime.filter((line) => line.startsWith('COPY --from=build')).map((line) => line.split(/\s+/)[2])).toEqual(['/app/package.json', '/app/node_modules', '/app/dist']);
    expect(runtime.find((line) => line.startsWith('ENTRYPOINT'))).toBe('ENTRYPOINT ["tapwire"]');
  });

  it('copies into the runtime image every data file Tapwire reads at run time, and they exist', () => {
    const copied = instructions.filter((line) => line.startsWith('COPY ') && !line.includes('--from=')).map((line) => line.split(/\s+/)[1]!);
    expect(copied).toEqual(expect.arrayContaining(['pipeline/schemas', 'rules', 'deploy/kibana', 'deploy/tapwire.yaml']));
    for (const source of copied.filter((s) => s !== '.' && !s.includes('*'))) expect(existsSync(join(packageRoot(), source)), source).toBe(true);
    expect(instructions).toContain('RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund');
  });
});
