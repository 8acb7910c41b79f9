/**
 * The console's HTTP server (node:http): the guard first, then the one-time login, the API, and the UI files.
 * Errors answer as JSON with a message; nothing of a failed request's internals (stack, paths) is sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answer, BadRequest, type ConsoleData } from './consoleApi.js';
import { originOf, type ListenAddress } from './listenAddress.js';
import { RequestGuard } from './requestGuard.js';
import { setSecurityHeaders } from './securityHeaders.js';
import { assetFolders, readAsset } from './staticAssets.js';

const MAX_BODY = 64 * 1024;

export interface RunningConsole {
  server: Server;
  origin: string;
  /** The one-time login URL (the code is forgotten once used). */
  loginUrl: string;
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

const sendJson = (response: ServerResponse, status: number, body: unknown): void => send(response, status, 'application/json; charset=utf-8', JSON.stringify(body));

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new BadRequest(`request body over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest('request body is not JSON');
  }
}

async function route(guard: RequestGuard, data: ConsoleData, folders: Record<string, string>, request: IncomingMessage, response: ServerResponse, log: (line: string) => void): Promise<void> {
  setSecurityHeaders(response);
  const url = new URL(request.url ?? '/', 'http://console.invalid');
  if (url.pathname === '/login' && request.method === 'GET' && guard.hostAllowed(request)) {
    if (!guard.redeemLogin(url.searchParams.get('code') ?? undefined)) return send(response, 401, 'text/plain; charset=utf-8', 'This login link was already used or is wrong. Restart tapwire console for a new one, or send Authorization: Bearer <token>.\n');
    response.setHeader('Set-Cookie', guard.sessionCookie());
    response.writeHead(303, { Location: '/' });
    return void response.end();
  }
  const verdict = guard.check(request);
  if (!verdict.ok) {
    log(`refused ${request.method} ${url.pathname}: ${verdict.reason}`);
    return url.pathname.startsWith('/api/') ? sendJson(response, verdict.status, { error: verdict.reason }) : send(response, verdict.status, 'text/plain; charset=utf-8', `${verdict.reason}\n`);
  }
  if (url.pathname.startsWith('/api/')) {
    try {
      const body = request.method === 'POST' ? await readJsonBody(request) : undefined;
      const result = await answer(data, request.method ?? 'GET', url.pathname.slice('/api'.length), url.searchParams, body);
      return sendJson(response, result.status, result.body);
    } catch (error) {
      if (error instanceof BadRequest) return sendJson(response, 400, { error: error.message });
      log(`error on ${request.method} ${url.pathname}: ${(error as Error).message}`);
      return sendJson(response, 503, { error: (error as Error).message });
    }
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') return sendJson(response, 405, { error: `no ${request.method} ${url.pathname}` });
  const asset = await readAsset(folders, url.pathname);
  if (!asset) return send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
  send(response, 200, asset.type, asset.body);
}

/** Starts the console on `address` (loopback, already checked); resolves once it listens. */
export async function startConsole(options: { address: ListenAddress; token: string; data: ConsoleData; log: (line: string) => void; folders?: Record<string, string> }): Promise<RunningConsole> {
  const folders = options.folders ?? assetFolders();
  let guard: RequestGuard | undefined;
  const server = createServer((request, response) => {
    route(guard as RequestGuard, options.data, folders, request, response, options.log).catch((error: unknown) => {
      options.log(`error: ${(error as Error).message}`);
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.address.port, options.address.host, () => resolve());
  });
  const origin = originOf({ host: options.address.host, port: (server.address() as AddressInfo).port });
  guard = new RequestGuard(options.token, origin);
  return {
    server,
    origin,
    loginUrl: `${origin}/login?code=${guard.pendingLoginCode as string}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
