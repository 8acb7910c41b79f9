/**
 * tapwire.yaml: which bus and store every command uses, and how to reach them. The file is YAML, checked against
 * pipeline/schemas/config.schema.json with ajv; every problem names the file, line and field. String values may
 * reference the environment as ${VAR} or ${VAR:-default} (so secrets stay out of the file), and the environment
 * overrides the file: TAPWIRE_BUS, TAPWIRE_STORE, KAFKA_BROKERS (comma-separated), ELASTICSEARCH_URL.
 *
 * Which file: --config FILE, else $TAPWIRE_CONFIG, else <home>/tapwire.yaml when it exists; with none, the embedded
 * bus and store.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { resolveHome } from './home.js';
import { packageRoot } from './packagePaths.js';

export interface KafkaTopicNames {
  events?: string;
  alerts?: string;
  deadLetters?: string;
  serverEvents?: string;
}

/**
 * TLS for the Kafka connection: `ca`, `cert` and `key` are PEM text or paths of PEM files (`cert` and `key` only when
 * the brokers ask for a client certificate); `servername` is the name the brokers' certificates are checked against
 * (and sent as SNI) when it differs from the address dialled.
 */
export interface KafkaTlsSettings {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized?: boolean;
}

export interface KafkaSaslSettings {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** The `kafka` section. */
export interface KafkaSettings {
  brokers?: string[];
  clientId?: string;
  topics?: KafkaTopicNames;
  createTopics?: boolean;
  partitions?: number;
  replicationFactor?: number;
  compression?: 'gzip' | 'none';
  lingerMs?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  ssl?: boolean | KafkaTlsSettings;
  sasl?: KafkaSaslSettings;
}

/** The `elasticsearch` section. */
export interface ElasticsearchSettings {
  node?: string;
  apiKey?: string;
  username?: string;
  password?: string;
  caFile?: string;
  namespace?: string;
  retentionDays?: number;
  flushBytes?: number;
  flushIntervalMs?: number;
}

/** The `spool` section: where collectors keep events while the bus is unreachable, and how much. */
export interface SpoolSettings {
  dir?: string;
  maxBytes?: number;
}

/** A loaded and checked tapwire.yaml, with the environment applied. */
export interface TapwireConfig {
  home?: string;
  bus: 'embedded' | 'kafka';
  store: 'embedded' | 'elasticsearch';
  kafka?: KafkaSettings;
  elasticsearch?: ElasticsearchSettings;
  spool?: SpoolSettings;
  /** The file it came from (absolute), if any. */
  source?: string;
}

/** A config that cannot be used; the message names the file (or variable), line and field of each problem. */
export class ConfigError extends Error {
  /** One line per problem. */
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** An explicit file (--config); wins over $TAPWIRE_CONFIG. */
  file?: string;
  /** The home whose tapwire.yaml is the fallback (--home). */
  home?: string;
  /** The environment (default process.env). */
  env?: NodeJS.ProcessEnv;
}

const CONFIG_FILE_NAME = 'tapwire.yaml';
const SECRET_FIELDS = new Set(['password', 'apiKey', 'key']);

/** The environment variables that override the file, and the field each sets. */
const ENV_OVERRIDES = [
  { variable: 'TAPWIRE_BUS', path: ['bus'], value: (raw: string): unknown => raw },
  { variable: 'TAPWIRE_STORE', path: ['store'], value: (raw: string): unknown => raw },
  { variable: 'KAFKA_BROKERS', path: ['kafka', 'brokers'], value: (raw: string): unknown => raw.split(',').map((b) => b.trim()).filter(Boolean) },
  { variable: 'ELASTICSEARCH_URL', path: ['elasticsearch', 'node'], value: (raw: string): unknown => raw },
] as const;

/** Finds, reads, interpolates, overrides and checks the configuration; throws ConfigError on any problem. */
export function loadConfig(options: LoadConfigOptions = {}): TapwireConfig {
  const env = options.env ?? process.env;
  const file = configFile(options, env);
  const located = file === undefined ? { value: {}, locate: () => undefined } : readConfigFile(file, env);
  const value = located.value as Record<string, unknown>;
  const overridden = new Map<string, string>();
  for (const override of ENV_OVERRIDES) {
    const raw = env[override.variable];
    if (raw === undefined || raw === '') continue;
    setPath(value, override.path, override.value(raw));
    overridden.set(`/${override.path.join('/')}`, override.variable);
  }
  const where = (instancePath: string, key?: string): string => {
    const variable = [...overridden].find(([path]) => instancePath === path || instancePath.startsWith(`${path}/`))?.[1];
    if (variable) return variable;
    const path = instancePath.split('/').slice(1).map(unescapePointer);
    const position = located.locate(path, key);
    return position ? `${file}:${position.line}:${position.col}` : (file ?? 'configuration');
  };
  const validate = configValidator();
  if (!validate(value)) throw new ConfigError((validate.errors ?? []).map((error) => describeError(error, where)));
  const config = { bus: 'embedded', store: 'embedded', ...value, ...(file ? { source: file } : {}) } as TapwireConfig;
  const missing: string[] = [];
  if (config.bus === 'kafka' && !config.kafka?.brokers?.length) missing.push(`${where('/bus')}: bus is kafka but kafka.brokers is not set (set it in the file or in KAFKA_BROKERS)`);
  if (config.store === 'elasticsearch' && !config.elasticsearch?.node) missing.push(`${where('/store')}: store is elasticsearch but elasticsearch.node is not set (set it in the file or in ELASTICSEARCH_URL)`);
  if (missing.length > 0) throw new ConfigError(missing);
  return config;
}

/** The configuration with every secret replaced, for logs and `tapwire status`. */
export function redactConfig(config: TapwireConfig): TapwireConfig {
  return JSON.parse(JSON.stringify(config), (key, value: unknown) => (SECRET_FIELDS.has(key) && typeof value === 'string' ? '[redacted]' : value)) as TapwireConfig;
}

function configFile(options: LoadConfigOptions, env: NodeJS.ProcessEnv): string | undefined {
  const explicit = options.file ?? (env.TAPWIRE_CONFIG || undefined);
  if (explicit !== undefined) {
    const file = resolve(explicit);
    if (!existsSync(file)) throw new ConfigError([`${file}: config file not found${options.file ? '' : ' (from TAPWIRE_CONFIG)'}`]);
    return file;
  }
  const home = options.home ?? env.TAPWIRE_HOME;
  const fallback = join(resolveHome(home).root, CONFIG_FILE_NAME);
  return existsSync(fallback) ? fallback : undefined;
}

interface LocatedValue {
  value: unknown;
  /** The line and column of the value at a path (of the key `key` under it, if given), if the file has it. */
  locate(path: string[], key?: string): { line: number; col: number } | undefined;
}

function readConfigFile(file: string, env: NodeJS.ProcessEnv): LocatedValue {
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter, prettyErrors: false });
  const position = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}:${position(e.pos[0]).line}:${position(e.pos[0]).col}: ${e.message.split('\n')[0]}`));
  }
  const problems = interpolateEnvironment(doc, env, (node, message) => {
    const at = node.range ? position(node.range[0]) : undefined;
    return `${file}${at ? `:${at.line}:${at.col}` : ''}: ${message}`;
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const value = doc.toJS() ?? {};
  return {
    value,
    locate: (path, key) => {
      if (key) {
        // An unknown field is shown where its key is written.
        const parent = doc.getIn(path, true);
        const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined;
        const keyNode = pair?.key as Node | undefined;
        if (keyNode?.range) return position(keyNode.range[0]);
      }
      const node = (path.length > 0 ? doc.getIn(path, true) : doc.contents) as Node | undefined;
      return node?.range ? position(node.range[0]) : undefined;
    },
  };
}

/** Replaces ${VAR} and ${VAR:-default} in string values; `$$` is a literal `$`. Returns one problem per unset variable. */
function interpolateEnvironment(doc: Document, env: NodeJS.ProcessEnv, problem: (node: Node, message: string) => string): string[] {
  const problems: string[] = [];
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      node.value = node.value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (match, name: string | undefined, fallback: string | undefined) => {
        if (name === undefined) return '$';
        const found = env[name];
        if (found !== undefined && found !== '') return found;
        if (fallback !== undefined) return fallback;
        problems.push(problem(node, `environment variable ${name} is not set (referenced as ${match})`));
        return '';
      });
    },
  });
  return problems;
}

let compiledValidator: ReturnType<Ajv2020['compile']> | undefined;

function configValidator(): ReturnType<Ajv2020['compile']> {
  if (compiledValidator) return compiledValidator;
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  const schema = JSON.parse(readFileSync(join(packageRoot(), 'pipeline', 'schemas', 'config.schema.json'), 'utf8')) as object;
  compiledValidator = ajv.compile(schema);
  return compiledValidator;
}

function describeError(error: ErrorObject, where: (instancePath: string, key?: string) => string): string {
  const field = error.instancePath.split('/').slice(1).map(unescapePointer).join('.') || '(top level)';
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      return `${where(error.instancePath, key)}: ${field === '(top level)' ? '' : `${field}: `}unknown field '${key}'`;
    }
    case 'required':
      return `${where(error.instancePath)}: ${field}: missing required field '${String(params.missingProperty)}'`;
    case 'enum':
      return `${where(error.instancePath)}: ${field}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${where(error.instancePath)}: ${field}: ${error.message ?? error.keyword}`;
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
