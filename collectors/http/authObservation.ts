/**
 * What the HTTP tap records about authorization without ever keeping a credential: the scheme, a keyed
 * hash of the credential (the same HMAC as the redaction placeholders, so a token correlates with its
 * redacted copies), a JWT's claims decoded WITHOUT verification, and the parameters of 401/403 challenges.
 */
import type { Auth } from '../../pipeline/types/mcpEvent.js';
import { PLACEHOLDER_PATTERN } from '../../pipeline/redactionPlaceholders.js';
import type { Redactor } from '../redaction.js';

type JwtClaims = NonNullable<Auth['jwt']>;
type Challenge = NonNullable<Auth['challenge']>;

/** Claim strings are identities, not payloads: kept short so a hostile token cannot bloat every event. */
const MAX_CLAIM_CHARS = 512;

/** The keyed 8-hex hash of a credential. */
export function credentialHash(redactor: Redactor, credential: string): string {
  return PLACEHOLDER_PATTERN.exec(redactor.placeholder('bearer_token', credential))![2]!;
}

function claimString(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, MAX_CLAIM_CHARS) : undefined;
}

/** The claims of a JWT (header.payload.signature), decoded but not verified; undefined when it is not one. */
export function unverifiedJwtClaims(token: string): JwtClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[0]!.startsWith('eyJ')) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const claims = payload as Record<string, unknown>;
  const out: JwtClaims = {};
  const iss = claimString(claims.iss);
  if (iss !== undefined) out.iss = iss;
  const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : undefined;
  if (aud !== undefined) out.aud = aud.slice(0, 16).map((a) => a.slice(0, MAX_CLAIM_CHARS));
  const sub = claimString(claims.sub);
  if (sub !== undefined) out.sub = sub;
  const scope = claimString(claims.scope) ?? (Array.isArray(claims.scp) ? claimString(claims.scp.filter((s) => typeof s === 'string').join(' ')) : claimString(claims.scp));
  if (scope !== undefined) out.scope = scope;
  if (typeof claims.exp === 'number' && Number.isFinite(claims.exp)) out.exp = Math.floor(claims.exp);
  return out;
}

/** mcp.auth for an Authorization header value. */
export function observeAuthorization(header: string, redactor: Redactor): Auth {
  const trimmed = header.trim();
  const space = trimmed.search(/\s/);
  const scheme = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const credential = space === -1 ? '' : trimmed.slice(space).trim();
  const auth: Auth = { scheme };
  if (credential === '') return auth;
  auth.token_hash = credentialHash(redactor, credential);
  if (scheme !== 'bearer') return auth;
  const jwt = unverifiedJwtClaims(credential);
  auth.token_format = jwt === undefined ? 'opaque' : 'jwt';
  if (jwt !== undefined) auth.jwt = jwt;
  return auth;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const QUOTED = /^"((?:[^"\\]|\\.)*)"/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

interface ParsedChallenge {
  scheme: string;
  params: Map<string, string>;
}

/** The challenges of a WWW-Authenticate value (RFC 9110 §11.6.1): `Bearer realm="x", scope="a b", Basic realm="y"`. */
export function parseChallenges(header: string): ParsedChallenge[] {
  const challenges: ParsedChallenge[] = [];
  let rest = header;
  const skip = (pattern: RegExp): void => {
    rest = rest.replace(pattern, '');
  };
  while (rest.length > 0) {
    skip(/^[\s,]+/);
    const scheme = TOKEN.exec(rest)?.[0];
    if (scheme === undefined) break;
    rest = rest.slice(scheme.length);
    const challenge: ParsedChallenge = { scheme: scheme.toLowerCase(), params: new Map() };
    challenges.push(challenge);
    // A token68 (`Negotiate abc==`) follows the scheme after a space and stands alone before a comma.
    const token68 = /^\s+/.test(rest) ? TOKEN68.exec(rest.trimStart())?.[0] : undefined;
    if (token68 !== undefined && /^\s*(?:,|$)/.test(rest.trimStart().slice(token68.length))) {
      rest = rest.trimStart().slice(token68.length);
      continue;
    }
    for (;;) {
      skip(/^[\s,]*/);
      const param = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*/.exec(rest);
      if (!param) break;
      rest = rest.slice(param[0].length);
      const quoted = QUOTED.exec(rest);
      const value = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : (TOKEN.exec(rest)?.[0] ?? '');
      rest = rest.slice(quoted ? quoted[0].length : value.length);
      challenge.params.set(param[1]!.toLowerCase(), value);
    }
  }
  return challenges;
}

/** mcp.auth.challenge for a 401/403 response: its Bearer challenge if there is one, else the first. */
export function observeChallenge(status: number, header: string | undefined): Challenge {
  const challenges = header === undefined ? [] : parseChallenges(header);
  const chosen = challenges.find((c) => c.scheme === 'bearer') ?? challenges[0];
  const out: Challenge = { status };
  if (chosen === undefined) return out;
  out.scheme = chosen.scheme;
  for (const key of ['realm', 'resource_metadata', 'scope', 'error', 'error_description'] as const) {
    const value = chosen.params.get(key);
    if (value !== undefined) out[key] = value.slice(0, 2048);
  }
  return out;
}

/** The well-known OAuth discovery documents, by path prefix. */
const DISCOVERY_PATHS: readonly [string, NonNullable<Auth['metadata']>['kind']][] = [
  ['/.well-known/oauth-protected-resource', 'protected_resource'],
  ['/.well-known/oauth-authorization-server', 'authorization_server'],
  ['/.well-known/openid-configuration', 'openid_configuration'],
];

/** Which discovery document a request path asks for (RFC 9728 / RFC 8414 path insertion included), if any. */
export function discoveryKind(path: string): NonNullable<Auth['metadata']>['kind'] | undefined {
  for (const [prefix, kind] of DISCOVERY_PATHS) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return kind;
  }
  // OpenID allows the suffix form: /tenant/.well-known/openid-configuration.
  return path.endsWith('/.well-known/openid-configuration') ? 'openid_configuration' : undefined;
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').slice(0, 32).map((v) => v.slice(0, 2048)) : undefined;
}

/** mcp.auth.metadata from a discovery document's body (undefined fields when the body is not such a document). */
export function observeDiscoveryDocument(kind: NonNullable<Auth['metadata']>['kind'], body: string): NonNullable<Auth['metadata']> {
  const metadata: NonNullable<Auth['metadata']> = { kind };
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return metadata;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return metadata;
  const fields = doc as Record<string, unknown>;
  const resource = claimString(fields.resource);
  if (resource !== undefined) metadata.resource = resource;
  const issuer = claimString(fields.issuer);
  if (issuer !== undefined) metadata.issuer = issuer;
  const servers = stringList(fields.authorization_servers);
  if (servers !== undefined) metadata.authorization_servers = servers;
  const scopes = stringList(fields.scopes_supported);
  if (scopes !== undefined) metadata.scopes_supported = scopes;
  return metadata;
}
