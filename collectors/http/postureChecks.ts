/**
 * The facts behind the HTTP tap's posture findings: whether an upstream is on this machine, whether a
 * token's audience names the resource it is sent to, and which query parameters carry credentials.
 */
import { isIP } from 'node:net';
import { isSecretName } from '../redaction.js';

/** Whether a URL host (name or address literal) is this machine: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(host);
  return false;
}

/** A URL in the form audience comparison uses: lower-case scheme and host, no default port, no trailing slash. */
function canonicalResource(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}${parsed.search}`;
  } catch {
    return undefined;
  }
}

/** Whether any audience names one of the resources (RFC 8707 canonical URIs, compared after canonicalization). */
export function audienceMatches(audience: readonly string[], resources: readonly string[]): boolean {
  const wanted = new Set(resources.map(canonicalResource).filter((r): r is string => r !== undefined));
  return audience.some((aud) => {
    const canonical = canonicalResource(aud);
    return canonical !== undefined && wanted.has(canonical);
  });
}

const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\./;

/** Names of query parameters that carry a credential: secret-like names (access_token, api_key …) or JWT-shaped values. */
export function credentialQueryParameters(search: string): string[] {
  const names = new Set<string>();
  for (const [name, value] of new URLSearchParams(search)) {
    if (value === '') continue;
    if (isSecretName(name) || name.toLowerCase() === 'key' || JWT_SHAPE.test(value)) names.add(name);
  }
  return [...names];
}
