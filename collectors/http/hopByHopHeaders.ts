/**
 * Which header fields cross the proxy (RFC 9110 §7.6.1): connection-specific fields are dropped in both
 * directions, together with every field the Connection header names; all others pass as the peer sent
 * them, duplicates, order and spelling kept (raw header lists).
 */

/** Fields that describe one connection, never the message (RFC 9110 §7.6.1, plus the legacy Proxy-Connection). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer']);

/**
 * Fields the proxy itself answers or replaces: Host names the upstream (SSRF safety: the client cannot
 * aim the upstream's virtual hosting); Expect was already answered by this hop; Proxy-Authorization and
 * Proxy-Authenticate belong to the client↔proxy hop.
 */
const REQUEST_ONLY_HERE = new Set(['host', 'expect', 'proxy-authorization']);
const RESPONSE_ONLY_HERE = new Set(['proxy-authenticate']);

function connectionTokens(raw: readonly string[]): Set<string> {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') named.add(name);
    }
  }
  return named;
}

function filtered(raw: readonly string[], dropAlso: ReadonlySet<string>): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropAlso.has(lower) || named.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** The raw header list to send upstream: the client's end-to-end fields and `Host: <upstream authority>`. */
export function upstreamRequestHeaders(clientRaw: readonly string[], upstreamHost: string): string[] {
  const out = filtered(clientRaw, REQUEST_ONLY_HERE);
  out.unshift('Host', upstreamHost);
  return out;
}

/** The raw header list to send the client: the upstream's end-to-end fields. */
export function clientResponseHeaders(upstreamRaw: readonly string[]): string[] {
  return filtered(upstreamRaw, RESPONSE_ONLY_HERE);
}
