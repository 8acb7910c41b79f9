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

function addConnectionTokens(value: string, named: Set<string>): void {
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '') named.add(name);
  }
}

/** One pass over the list (each name lowered once); a second over what is kept only when a Connection header named fields. */
function filtered(raw: readonly string[], dropAlso: ReadonlySet<string>): string[] {
  let named: Set<string> | undefined;
  const out: string[] = [];
  const lowered: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'connection') addConnectionTokens(raw[i + 1]!, (named ??= new Set()));
    if (HOP_BY_HOP.has(lower) || dropAlso.has(lower)) continue;
    out.push(name, raw[i + 1]!);
    lowered.push(lower);
  }
  if (named === undefined) return out;
  const kept: string[] = [];
  for (let i = 0; i < lowered.length; i++) if (!named.has(lowered[i]!)) kept.push(out[2 * i]!, out[2 * i + 1]!);
  return kept;
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
