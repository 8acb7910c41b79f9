/**
 * The ECS context of one HTTP exchange, as every event about it carries it: url.* (what the client
 * asked the proxy for), http.* (method, status, media types, MCP headers), source.* (the client) and
 * user_agent.*. Credentials never appear here: Authorization is summarised in mcp.auth instead, and the
 * normalizer redacts these fields (a token in the query string included) before they leave the collector.
 */
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { RequestObservation } from './httpObserverProtocol.js';

/** MCP transport headers worth keeping with each message (never credentials; Mcp-Session-Id is mcp.session.http_id). */
const MCP_HEADERS = ['mcp-protocol-version', 'mcp-method', 'mcp-name', 'last-event-id', 'origin'] as const;

/** The response facts known when an event is written. */
export interface ResponseFacts {
  status: number;
  contentType?: string;
}

function mediaType(contentType: string | undefined): string | undefined {
  const essence = contentType?.split(';')[0]?.trim().toLowerCase();
  return essence === '' ? undefined : essence;
}

/** Splits a Host header into name and port (IPv6 literals keep their brackets off). */
function hostParts(host: string | undefined, tls: boolean): { domain?: string; port: number } {
  const fallback = tls ? 443 : 80;
  if (host === undefined || host === '') return { port: fallback };
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  if (!match) return { port: fallback };
  return { domain: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] === undefined ? fallback : Number(match[2]) };
}

/** url.*, http.*, source.* and user_agent.* for events about `request` (and its response, once known). */
export function exchangeFields(request: RequestObservation, requestId: string, response?: ResponseFacts, requestBytes?: number): Pick<McpEvent, 'url' | 'http' | 'source' | 'user_agent'> {
  const queryAt = request.target.indexOf('?');
  const path = queryAt === -1 ? request.target : request.target.slice(0, queryAt);
  const query = queryAt === -1 ? undefined : request.target.slice(queryAt + 1);
  const scheme = request.tls ? 'https' : 'http';
  const { domain, port } = hostParts(request.headers.host, request.tls);
  const url: Record<string, unknown> = { scheme, path, port, ...(domain !== undefined ? { domain } : {}), ...(query !== undefined ? { query } : {}) };
  // The target as received matters when it is not a path (an absolute-form target the proxy refused).
  if (!request.target.startsWith('/')) url.original = request.target;
  if (domain !== undefined) url.full = `${scheme}://${request.headers.host}${request.target}`;
  const mcpHeaders: Record<string, string> = {};
  for (const name of MCP_HEADERS) {
    const value = request.headers[name];
    if (value !== undefined) mcpHeaders[name] = value;
  }
  const requestMime = mediaType(request.headers['content-type']);
  const http: Record<string, unknown> = {
    version: request.httpVersion,
    request: {
      id: requestId,
      method: request.method,
      ...(requestMime !== undefined ? { mime_type: requestMime } : {}),
      ...(requestBytes !== undefined ? { body: { bytes: requestBytes } } : {}),
      ...(Object.keys(mcpHeaders).length > 0 ? { headers: mcpHeaders } : {}),
    },
  };
  if (response !== undefined) {
    const responseMime = mediaType(response.contentType);
    http.response = { status_code: response.status, ...(responseMime !== undefined ? { mime_type: responseMime } : {}) };
  }
  const userAgent = request.headers['user-agent'];
  return {
    url,
    http,
    source: { ip: request.client.ip, port: request.client.port, address: request.client.ip },
    ...(userAgent !== undefined ? { user_agent: { original: userAgent } } : {}),
  };
}
