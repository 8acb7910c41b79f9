import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionNormalizer } from '../../collectors/normalizer.js';
import { Redactor } from '../../collectors/redaction.js';
import { createDetectors } from '../../detectors/posture/index.js';
import { checkEvent } from '../../pipeline/schemaValidator.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent, Posture } from '../../pipeline/types/mcpEvent.js';
import { startProxy, type ProxyProcess } from '../http/proxyHarness.js';
import { startStreamableServer, type TestHttpServer } from '../http/sdkHttpServers.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { ruleIds, runChecked } from './detectorHarness.js';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const HOUR = 3_600_000;
const UPSTREAM = 'http://mcp.internal.example:8080/mcp';

/** A collector session normalizer for one HTTP upstream: the code that writes posture and unparsed events live. */
function collectorSession(id: string, upstream = UPSTREAM): SessionNormalizer {
  return new SessionNormalizer(
    {
      sessionId: id,
      transport: 'streamable_http',
      serverId: upstream,
      serverName: 'internal',
      context: { host: { hostname: 'gw-1' }, observer: { type: 'http_tap', product: 'tapwire', vendor: 'Tapwire', version: '0.1.0' }, network: { transport: 'tcp' } },
    },
    { redactor: new Redactor('posture tests') },
  );
}

function finding(session: SessionNormalizer, at: number, posture: Posture): McpEvent {
  const event = session.lifecycle('posture.finding', at, { message: `posture: ${posture.finding}`, posture });
  expect(checkEvent(event).errors).toEqual([]);
  return event;
}

function run(events: McpEvent[], config: Record<string, unknown> = {}): McpAlert[] {
  return runChecked(createDetectors(config), events);
}

describe('posture findings', () => {
  const plaintext: Posture = { finding: 'plaintext_upstream', detail: `${UPSTREAM} is reached over plaintext HTTP on a non-loopback address` };

  it('turns each kind of finding into its rule, with severity and category', () => {
    const s = collectorSession('s1');
    const alerts = run([
      finding(s, T0, plaintext),
      finding(s, T0 + 1, { finding: 'no_authorization', detail: `${UPSTREAM} accepted MCP traffic without an Authorization header` }),
      finding(s, T0 + 2, { finding: 'token_audience_mismatch', detail: 'token 0badc0de aud https://other.example/api is not https://mcp.internal.example/mcp' }),
      finding(s, T0 + 3, { finding: 'token_in_query', detail: 'credential in query parameter access_token' }),
      finding(s, T0 + 4, { finding: 'mcp_header_mismatch', detail: "Mcp-Method 'tools/list' but the body's method is 'tools/call'" }),
    ]);
    expect(alerts.map((a) => [a.rule.id, a.event.severity, a.rule.category])).toEqual([
      ['tapwire.posture.plaintext-upstream', 73, 'protocol'],
      ['tapwire.posture.no-authorization', 47, 'protocol'],
      ['tapwire.posture.token-audience-mismatch', 73, 'protocol'],
      ['tapwire.posture.token-in-query', 73, 'sensitive_data'],
      ['tapwire.posture.mcp-header-mismatch', 47, 'protocol'],
    ]);
    expect(alerts[2]!.message).toContain('token 0badc0de');
    expect(alerts[0]!.mcp?.server?.id).toBe(UPSTREAM);
  });

  it('alerts once per server and finding, then again after the repeat interval with what it held back', () => {
    const events = [0, 1, 2, 3].map((i) => finding(collectorSession(`s${i}`), T0 + i * HOUR, plaintext));
    events.push(finding(collectorSession('s9'), T0 + 30 * HOUR, plaintext));
    const alerts = run(events, { repeatAfterMs: 24 * HOUR });
    expect(alerts.map((a) => a.alert.source_event_ids[0])).toEqual([events[0]!.event.id, events[4]!.event.id]);
    expect(alerts[1]!.alert.details).toMatchObject({ sessions_since_last_alert: 4 });
    expect(alerts[1]!.message).toContain('Seen in 4 more sessions');
  });

  it('keeps findings apart by detail: another token is another alert', () => {
    const s = collectorSession('s1');
    const mismatch = (hash: string): Posture => ({ finding: 'token_audience_mismatch', detail: `token ${hash} aud https://a.example is not ${UPSTREAM}` });
    expect(run([finding(s, T0, mismatch('11111111')), finding(s, T0 + 1, mismatch('11111111')), finding(s, T0 + 2, mismatch('22222222'))])).toHaveLength(2);
  });
});

describe('unparsed-frame storms', () => {
  const garbage = (session: SessionNormalizer, at: number, i: number): McpEvent => {
    const [event] = session.frame('server_to_client', `<html>proxy error ${i}</html>`, at);
    expect(event!.mcp.message?.kind).toBe('unparsed');
    return event!;
  };

  it('alerts once when a session reaches the threshold within the window, citing every frame', () => {
    const s = collectorSession('s1');
    const events = Array.from({ length: 30 }, (_, i) => garbage(s, T0 + i * 1_000, i));
    const alerts = run(events, { unparsedThreshold: 20, unparsedWindowMs: 60_000 });
    expect(ruleIds(alerts)).toEqual(['tapwire.protocol.unparsed-storm']);
    expect(alerts[0]!.alert.source_event_ids).toEqual(events.slice(0, 20).map((e) => e.event.id));
    expect(alerts[0]!.alert.details).toMatchObject({ frames: 20, threshold: 20, directions: { server_to_client: 20 } });
    expect(alerts[0]!.message).toMatch(/20 unparsed frames in 19 s/);
  });

  it('does not alert for the same frames spread wider than the window, nor across sessions', () => {
    const slow = collectorSession('slow');
    expect(run(Array.from({ length: 40 }, (_, i) => garbage(slow, T0 + i * 5_000, i)), { unparsedThreshold: 20, unparsedWindowMs: 60_000 })).toEqual([]);
    const sessions = [0, 1, 2, 3].map((i) => collectorSession(`s${i}`));
    const spread = Array.from({ length: 40 }, (_, i) => garbage(sessions[i % 4]!, T0 + i * 100, i));
    expect(run(spread, { unparsedThreshold: 20 })).toEqual([]);
  });

  it('alerts for a second storm after the session calms down', () => {
    const s = collectorSession('s1');
    const first = Array.from({ length: 5 }, (_, i) => garbage(s, T0 + i, i));
    const second = Array.from({ length: 5 }, (_, i) => garbage(s, T0 + 10 * 60_000 + i, i));
    expect(run([...first, ...second], { unparsedThreshold: 5 })).toHaveLength(2);
  });

  it('rejects bad settings naming the field', () => {
    expect(() => createDetectors({ unparsedThreshold: 1 })).toThrow(/unparsedThreshold/);
  });
});

describe('posture alerts from a real HTTP proxy in front of SDK servers', () => {
  const { home, remove } = tempHome();
  const RESOURCE = 'https://mcp.example.test/mcp';
  let open: TestHttpServer;
  let guarded: TestHttpServer;
  let proxy: ProxyProcess;
  let alerts: McpAlert[];

  const jwt = (claims: Record<string, unknown>): string => {
    const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
  };

  async function session(url: string, headers: Record<string, string> = {}): Promise<void> {
    const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
    const client = new Client({ name: 'posture-host', version: '1.0.0' });
    await client.connect(transport);
    await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    await transport.terminateSession();
    await client.close();
  }

  beforeAll(async () => {
    open = await startStreamableServer({ stateful: true, json: true });
    guarded = await startStreamableServer({ stateful: true, json: true });
    const config = join(home, 'proxy.yaml');
    writeFileSync(config, ['routes:', `  - { name: open, path: /open, upstream: "${open.url}", remote: true }`, `  - { name: guarded, path: /guarded, upstream: "${guarded.url}", resource: "${RESOURCE}", remote: true }`, ''].join('\n'));
    proxy = await startProxy(['--config', config, '--home', home]);
    await session(`${proxy.url}/open/mcp`);
    await session(`${proxy.url}/open/mcp`);
    await session(`${proxy.url}/guarded/mcp`, { authorization: `Bearer ${jwt({ aud: ['https://other.example.test/api'], exp: 2_000_000_000 })}` });
    await session(`${proxy.url}/guarded/mcp?access_token=${jwt({ aud: RESOURCE, exp: 2_000_000_000 })}`);
    await proxy.stop();
    alerts = run(await busEvents(home));
  });

  afterAll(async () => {
    await proxy?.stop();
    await open?.close();
    await guarded?.close();
    remove();
  });

  it('alerts on plaintext remote upstreams, missing authorization, token passthrough and query tokens, once per server', () => {
    const byServer = (name: string): string[] => alerts.filter((a) => a.mcp?.server?.name === name).map((a) => a.rule.id).sort();
    expect(byServer('open')).toEqual(['tapwire.posture.no-authorization', 'tapwire.posture.plaintext-upstream']);
    expect(byServer('guarded')).toEqual(['tapwire.posture.plaintext-upstream', 'tapwire.posture.token-audience-mismatch', 'tapwire.posture.token-in-query']);
    expect(JSON.stringify(alerts)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});
