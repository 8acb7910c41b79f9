/**
 * The proxy's own answers (413, 400, 404, 421, 502, 504): a JSON-RPC error object with a null id, the
 * shape MCP servers use for transport-level errors, so an MCP client shows the reason to its user.
 */
import type { ServerResponse } from 'node:http';

/** JSON-RPC error code the proxy uses: implementation-defined server error (-32000 .. -32099). */
const PROXY_ERROR_CODE = -32000;

/** Answers the client with `status` and a JSON-RPC error body, unless a response was already started. */
export function sendProxyError(res: ServerResponse, status: number, message: string, options: { close?: boolean } = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: PROXY_ERROR_CODE, message: `tapwire proxy: ${message}` } });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(options.close ? { connection: 'close' } : {}),
  });
  res.end(body);
}
