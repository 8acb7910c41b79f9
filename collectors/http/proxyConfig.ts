/**
 * The HTTP proxy's configuration: a YAML file validated against a JSON Schema (ajv), or one upstream
 * given on the command line. Every mistake is reported as `FILE:LINE: field message`.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { isLoopbackHost } from './postureChecks.js';

/** One upstream MCP server behind the proxy. */
export interface ProxyRoute {
  /** The server's name in events (mcp.server.name). */
  name: string;
  /** The upstream's MCP endpoint URL (mcp.server.id); its origin receives the forwarded requests. */
  upstream: URL;
  /** Path prefix on the proxy ("/" = every path); it is stripped before forwarding. */
  pathPrefix: string;
  /** Host header (lower case, no port) the route answers; undefined = any host. */
  host?: string;
  /** Canonical resource URLs a token's `aud` should name (default: the upstream URL). */
  resources: string[];
  /** Whether the upstream counts as remote for posture findings (default: its host is not loopback). */
  remote: boolean;
}

/** Certificate and key of a TLS listener (PEM). */
export interface ListenerTls {
  cert: Buffer;
  key: Buffer;
}

/** The resolved proxy configuration. */
export interface ProxyConfig {
  listen?: { host: string; port: number };
  tls?: ListenerTls;
  /** Extra CA certificates (PEM) trusted for https upstreams, besides Node's default store. */
  upstreamCa?: Buffer;
  /** Largest request body forwarded; larger ones get 413. */
  maxBodyBytes: number;
  /** How long the upstream may take to send its response headers before the client gets 504. */
  upstreamTimeoutMs: number;
  /** An MCP session with no traffic and no open stream for this long is ended in the telemetry. */
  sessionIdleTimeoutMs: number;
  routes: ProxyRoute[];
}

/** A configuration mistake; the message is `FILE:LINE: field message`. */
export class ProxyConfigError extends Error {}

/** Default body limit: above the SDK's own 4 MiB and stdio's 10 MB line cap, so the upstream decides. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
const DEFAULTS = { maxBodyBytes: DEFAULT_MAX_BODY_BYTES, upstreamTimeoutMs: 120_000, sessionIdleTimeoutMs: 15 * 60_000 };

const ROUTE_SCHEMA = {
  type: 'object',
  required: ['name', 'upstream'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    upstream: { type: 'string', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' },
    path: { type: 'string', pattern: '^/' },
    host: { type: 'string', minLength: 1 },
    resource: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
    remote: { type: 'boolean' },
  },
} as const;

const CONFIG_SCHEMA = {
  type: 'object',
  required: ['routes'],
  additionalProperties: false,
  properties: {
    listen: { type: 'string' },
    tls: {
      type: 'object',
      required: ['cert', 'key'],
      additionalProperties: false,
      properties: { cert: { type: 'string', minLength: 1 }, key: { type: 'string', minLength: 1 } },
    },
    upstream_ca: { type: 'string', minLength: 1 },
    max_body_bytes: { type: 'integer', minimum: 1 },
    upstream_timeout_ms: { type: 'integer', minimum: 1 },
    session_idle_timeout_ms: { type: 'integer', minimum: 1000 },
    routes: { type: 'array', minItems: 1, items: ROUTE_SCHEMA },
  },
} as const;

interface RawRoute {
  name: string;
  upstream: string;
  path?: string;
  host?: string;
  resource?: string | string[];
  remote?: boolean;
}

interface RawConfig {
  listen?: string;
  tls?: { cert: string; key: string };
  upstream_ca?: string;
  max_body_bytes?: number;
  upstream_timeout_ms?: number;
  session_idle_timeout_ms?: number;
  routes: RawRoute[];
}

let validator: ReturnType<Ajv2020['compile']> | undefined;

/** Parses `HOST:PORT` ([v6]:PORT for IPv6); `field` names the option in errors. */
export function parseListenAddress(value: string, field = '--listen'): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new ProxyConfigError(`${field}: expected HOST:PORT (e.g. 127.0.0.1:8080), got '${value}'`);
  return { host: match[1] ?? match[2]!, port };
}

/** The route for one upstream URL given on the command line. */
export function singleUpstreamRoute(upstream: string, name?: string): ProxyRoute {
  const route = resolveRoute({ name: name ?? '', upstream }, (message) => new ProxyConfigError(`--upstream: ${message}`));
  if (name === undefined) route.name = route.upstream.host;
  return route;
}

/** The configuration with defaults for everything but the routes and listener. */
export function proxyConfig(fields: Partial<ProxyConfig> & Pick<ProxyConfig, 'routes'>): ProxyConfig {
  return { ...DEFAULTS, ...fields };
}

function normalizedPrefix(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function resolveRoute(raw: RawRoute, fail: (message: string, key?: string) => Error): ProxyRoute {
  let upstream: URL;
  try {
    upstream = new URL(raw.upstream);
  } catch {
    throw fail(`'${raw.upstream}' is not a valid URL`, 'upstream');
  }
  if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') throw fail('must be an http or https URL', 'upstream');
  if (upstream.username !== '' || upstream.password !== '') throw fail('must not carry credentials (put them in the client\'s headers)', 'upstream');
  const resources = raw.resource === undefined ? [upstream.href] : Array.isArray(raw.resource) ? raw.resource : [raw.resource];
  for (const resource of resources) {
    try {
      new URL(resource);
    } catch {
      throw fail(`'${resource}' is not a valid URL`, 'resource');
    }
  }
  if (raw.path !== undefined && /(?:^|\/)\.\.?(?:\/|$)/.test(raw.path)) throw fail('must not contain . or .. segments', 'path');
  return {
    name: raw.name,
    upstream,
    pathPrefix: normalizedPrefix(raw.path ?? '/'),
    ...(raw.host !== undefined ? { host: raw.host.toLowerCase().replace(/:\d+$/, '') } : {}),
    resources,
    remote: raw.remote ?? !isLoopbackHost(upstream.hostname),
  };
}

/** Where in the YAML document a value sits, as a 1-based line. */
function lineOf(doc: Document, counter: LineCounter, path: (string | number)[]): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  return 1;
}

function fieldName(path: (string | number)[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out === '' ? key : `${out}.${key}`), '');
}

function describeError(error: ErrorObject): { path: (string | number)[]; message: string } {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part.replace(/~1/g, '/').replace(/~0/g, '~')));
  switch (error.keyword) {
    case 'required':
      return { path: [...path, (error.params as { missingProperty: string }).missingProperty], message: 'is required' };
    case 'additionalProperties':
      return { path: [...path, (error.params as { additionalProperty: string }).additionalProperty], message: 'is not a known field' };
    case 'pattern':
      return { path, message: path[path.length - 1] === 'upstream' ? 'must be an http:// or https:// URL' : 'must start with /' };
    default:
      return { path, message: error.message ?? error.keyword };
  }
}

function readPem(file: string, base: string, fail: (message: string) => Error): Buffer {
  const path = resolve(base, file);
  try {
    return readFileSync(path);
  } catch (error) {
    throw fail(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Loads and validates a YAML configuration file; relative certificate paths are resolved against its folder. */
export function loadProxyConfig(file: string): ProxyConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ProxyConfigError(`${file}: cannot read the configuration: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) throw new ProxyConfigError(`${file}:${counter.linePos(syntax.pos[0]).line}: ${syntax.message.split('\n')[0]}`);
  const at = (path: (string | number)[], message: string): ProxyConfigError => new ProxyConfigError(`${file}:${lineOf(doc, counter, path)}: ${fieldName(path) || '(document)'} ${message}`);
  if (!isMap(doc.contents)) throw at([], 'must be a mapping with a routes list');
  const raw = doc.toJS() as RawConfig;
  validator ??= new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true }).compile(CONFIG_SCHEMA);
  if (!validator(raw)) {
    const { path, message } = describeError(validator.errors![0]!);
    throw at(path, message);
  }
  const routesNode = doc.get('routes', true);
  if (!isSeq(routesNode)) throw at(['routes'], 'must be a list');
  const routes = raw.routes.map((route, i) => resolveRoute(route, (message, key) => at(['routes', i, ...(key ? [key] : [])], message)));
  const seen = new Map<string, number>();
  routes.forEach((route, i) => {
    if (seen.has(`name:${route.name}`)) throw at(['routes', i, 'name'], `'${route.name}' is already used by routes[${seen.get(`name:${route.name}`)}]`);
    seen.set(`name:${route.name}`, i);
    const key = `route:${route.host ?? '*'}${route.pathPrefix}`;
    if (seen.has(key)) throw at(['routes', i, 'path'], `duplicates the host and path of routes[${seen.get(key)}]`);
    seen.set(key, i);
  });
  const base = dirname(resolve(file));
  const config = proxyConfig({
    routes,
    ...(raw.listen !== undefined ? { listen: wrap(() => parseListenAddress(raw.listen!, 'listen'), (m) => at(['listen'], m.replace(/^listen: /, ''))) } : {}),
    ...(raw.tls !== undefined
      ? { tls: { cert: readPem(raw.tls.cert, base, (m) => at(['tls', 'cert'], m)), key: readPem(raw.tls.key, base, (m) => at(['tls', 'key'], m)) } }
      : {}),
    ...(raw.upstream_ca !== undefined ? { upstreamCa: readPem(raw.upstream_ca, base, (m) => at(['upstream_ca'], m)) } : {}),
    ...(raw.max_body_bytes !== undefined ? { maxBodyBytes: raw.max_body_bytes } : {}),
    ...(raw.upstream_timeout_ms !== undefined ? { upstreamTimeoutMs: raw.upstream_timeout_ms } : {}),
    ...(raw.session_idle_timeout_ms !== undefined ? { sessionIdleTimeoutMs: raw.session_idle_timeout_ms } : {}),
  });
  return config;
}

function wrap<T>(produce: () => T, fail: (message: string) => Error): T {
  try {
    return produce();
  } catch (error) {
    throw fail((error as Error).message);
  }
}
