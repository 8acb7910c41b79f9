import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { eventsOf, expectSchemaValid, messageEvents, urlOf } from './eventChecks.js';
import { startProxy, type ProxyProcess } from './proxyHarness.js';
import { startStreamableServer, type TestHttpServer } from './sdkHttpServers.js';

const RESOURCE = 'https://mcp.example.test/mcp';

function jwt(claims: Record<string, unknown>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk`;
}

const GOOD = jwt({ iss: 'https://auth.example.test', aud: RESOURCE, sub: 'user-17', scope: 'mcp:read mcp:write', exp: 2_000_000_000 });
const WRONG_AUDIENCE = jwt({ iss: 'https://auth.example.test', aud: ['https://other.example.test/api'], sub: 'user-17', scp: ['mcp:read'], exp: 2_000_000_000 });

/** A resource server: bearer tokens required on /mcp, insufficient scope for one marked request, and its discovery documents. */
function authGate(origin: () => string) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const json = (status: number, body: object, headers: Record<string, string> = {}): true => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      return true;
    };
    if (req.url === '/.well-known/oauth-protected-resource/mcp') {
      return json(200, { resource: RESOURCE, authorization_servers: ['https://auth.example.test'], scopes_supported: ['mcp:read', 'mcp:write'] });
    }
    if (req.url === '/.well-known/oauth-authorization-server') {
      return json(200, { issuer: 'https://auth.example.test', authorization_endpoint: 'https://auth.example.test/authorize', token_endpoint: 'https://auth.example.test/token' });
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? new URL(req.url ?? '/', 'http://x').searchParams.get('access_token');
    if (!token) {
      const metadata = `${origin()}/.well-known/oauth-protected-resource/mcp`;
      return json(401, { error: 'unauthorized' }, { 'www-authenticate': `Bearer resource_metadata="${metadata}", scope="mcp:read"` });
    }
    if (req.headers['x-wants'] === 'admin') {
      return json(403, { error: 'insufficient_scope' }, { 'www-authenticate': 'Bearer error="insufficient_scope", scope="mcp:admin", error_description="admin scope needed"' });
    }
    return false;
  };
}

async function session(url: string, headers: Record<string, string>): Promise<void> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: 'auth-host', version: '1.0.0' });
  await client.connect(transport);
  await client.callTool({ name: 'echo', arguments: { text: 'authorized' } });
  await transport.terminateSession();
  await client.close();
}

describe('auth observation and posture findings', () => {
  const { home, remove } = tempHome();
  let guarded: TestHttpServer;
  let open: TestHttpServer;
  let proxy: ProxyProcess;
  const statuses: number[] = [];
  let events: McpEvent[];

  beforeAll(async () => {
    let guardedOrigin = '';
    guarded = await startStreamableServer({ stateful: true, json: true, intercept: authGate(() => guardedOrigin) });
    guardedOrigin = new URL(guarded.url).origin;
    open = await startStreamableServer({ stateful: true, json: true });
    const config = join(home, 'proxy.yaml');
    writeFileSync(
      config,
      [
        'routes:',
        `  - { name: guarded, path: /guarded, upstream: "${guarded.url}", resource: "${RESOURCE}", remote: true }`,
        `  - { name: open, path: /open, upstream: "${open.url}", remote: true }`,
        '',
      ].join('\n'),
    );
    proxy = await startProxy(['--config', config, '--home', home]);
    const base = `${proxy.url}/guarded`;
    const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'anon', version: '1' } } });
    const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    statuses.push((await fetch(`${base}/mcp`, { method: 'POST', headers: mcpHeaders, body: init })).status);
    statuses.push((await fetch(`${proxy.url}/.well-known/oauth-protected-resource/guarded/mcp`)).status);
    statuses.push((await fetch(`${base}/.well-known/oauth-authorization-server`)).status);
    statuses.push((await fetch(`${base}/mcp`, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${GOOD}`, 'x-wants': 'admin' }, body: init })).status);
    statuses.push((await fetch(`${base}/mcp?access_token=${GOOD}`, { method: 'POST', headers: mcpHeaders, body: init })).status);
    await session(`${base}/mcp`, { authorization: `Bearer ${GOOD}` });
    await session(`${base}/mcp`, { authorization: `Bearer ${WRONG_AUDIENCE}` });
    await session(`${proxy.url}/open/mcp`, {});
    await proxy.stop();
    events = await busEvents(home);
  });
  afterAll(async () => {
    await proxy?.stop();
    await guarded?.close();
    await open?.close();
    remove();
  });

  it('passes the auth exchange through untouched', () => {
    expect(statuses).toEqual([401, 200, 200, 403, 200]);
  });

  it('never stores a token: not in events, not anywhere in the bus files', () => {
    expectSchemaValid(events);
    const text = JSON.stringify(events);
    const stored = readdirSync(home)
      .filter((f) => f.startsWith('bus.sqlite'))
      .map((f) => readFileSync(join(home, f)).toString('latin1'))
      .join('');
    for (const token of [GOOD, WRONG_AUDIENCE]) {
      const [, payload, signature] = token.split('.');
      for (const haystack of [text, stored]) {
        expect(haystack).not.toContain(payload);
        expect(haystack).not.toContain(signature);
      }
    }
  });

  it('records the scheme, a keyed hash and the unverified JWT claims on each message', () => {
    const calls = messageEvents(eventsOf(events, 'guarded')).filter((e) => e.event.action === 'tools/call' && e.mcp.direction === 'client_to_server');
    expect(calls).toHaveLength(2);
    expect(calls[0]!.mcp.auth).toEqual({
      scheme: 'bearer',
      token_hash: expect.stringMatching(/^[0-9a-f]{8}$/),
      token_format: 'jwt',
      jwt: { iss: 'https://auth.example.test', aud: [RESOURCE], sub: 'user-17', scope: 'mcp:read mcp:write', exp: 2_000_000_000 },
    });
    expect(calls[1]!.mcp.auth?.jwt).toMatchObject({ aud: ['https://other.example.test/api'], scope: 'mcp:read' });
    expect(calls[0]!.mcp.auth!.token_hash).not.toBe(calls[1]!.mcp.auth!.token_hash);
  });

  it('records 401 and 403 challenges with their resource metadata, scope and error', () => {
    const challenges = eventsOf(events, 'guarded').filter((e) => e.event.action === 'auth.challenge').map((e) => e.mcp.auth?.challenge);
    expect(challenges).toEqual([
      { status: 401, scheme: 'bearer', resource_metadata: `${new URL(guarded.url).origin}/.well-known/oauth-protected-resource/mcp`, scope: 'mcp:read' },
      { status: 403, scheme: 'bearer', scope: 'mcp:admin', error: 'insufficient_scope', error_description: 'admin scope needed' },
    ]);
  });

  it('records OAuth discovery requests as auth events with what the documents say', () => {
    const discovery = eventsOf(events, 'guarded').filter((e) => e.event.action === 'auth.discovery');
    expect(discovery.map((e) => e.mcp.auth?.metadata)).toEqual([
      { kind: 'protected_resource', resource: RESOURCE, authorization_servers: ['https://auth.example.test'], scopes_supported: ['mcp:read', 'mcp:write'] },
      { kind: 'authorization_server', issuer: 'https://auth.example.test' },
    ]);
    expect(urlOf(discovery[0]!).path).toBe('/.well-known/oauth-protected-resource/guarded/mcp');
  });

  it('reports posture: plaintext remote upstreams, no Authorization, a token for another audience, a token in the query', () => {
    const findings = (server: string): string[] =>
      eventsOf(events, server)
        .filter((e) => e.event.action === 'posture.finding')
        .map((e) => `${e.mcp.posture!.finding}: ${e.mcp.posture!.detail}`);
    const guardedFindings = findings('guarded');
    expect(guardedFindings.filter((f) => f.startsWith('token_audience_mismatch'))).toEqual([expect.stringContaining('aud https://other.example.test/api is not https://mcp.example.test/mcp')]);
    expect(guardedFindings).toContain('token_in_query: credential in query parameter access_token');
    expect(guardedFindings.some((f) => f.startsWith('no_authorization'))).toBe(false);
    expect(guardedFindings.filter((f) => f.startsWith('plaintext_upstream')).length).toBeGreaterThan(0);
    expect(findings('open')).toEqual([
      `plaintext_upstream: ${open.url} is reached over plaintext HTTP on a non-loopback address`,
      `no_authorization: ${open.url} accepted MCP traffic without an Authorization header`,
    ]);
  });

  it('redacts a token in the query string wherever the URL is recorded', () => {
    const inQuery = eventsOf(events, 'guarded').find((e) => urlOf(e).query?.startsWith('access_token='));
    expect(urlOf(inQuery).query).toMatch(/^access_token=\[REDACTED:[a-z_]+:[0-9a-f]{8}\]$/);
  });
});
