import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectDemo } from '../../cli/demo/demoDetection.js';
import { checkEvent } from '../../pipeline/schemaValidator.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { DRIFTING_SERVER } from '../support/driftingWeather.js';
import { runDemo, TEST_MS } from '../support/loadBounds.js';
import { hostSession, leaveHandoff } from '../support/starvedTap.js';
import { busEvents, runCli, tempHome } from '../support/tapwireCli.js';

describe('tapwire demo', { timeout: TEST_MS }, () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('runs real servers behind taps and reports sessions, servers, tool hashes, calls and alerts', async () => {
    const result = await runDemo(home);
    expect(result.stderr).toBe('');
    const out = result.stdout.toString();
    for (const heading of ['Sessions', 'Servers', 'Tools', 'Tool calls']) expect(out).toContain(`\n${heading}`);
    expect(out).toContain('weather-forecast');
    // The rug pull shows as two versions of one tool.
    expect(out.match(/weather\s+get_forecast\s+[0-9a-f]{16}/g)).toHaveLength(2);
    // The credential the malicious server asked for is redacted, with one correlating hash in both places.
    const placeholders = out.match(/\[REDACTED:aws_access_key_id:[0-9a-f]{8}\]/g) ?? [];
    expect(placeholders.length).toBeGreaterThanOrEqual(2);
    expect(new Set(placeholders).size).toBe(1);
    expect(out).not.toContain('AKIAQ4DEMO7EXAMPLE7Q');

    const events = await busEvents(home);
    for (const event of events) expect(checkEvent(event).errors).toEqual([]);
    expect(new Set(events.map((e) => e.mcp.host_session?.id)).size).toBe(1);
    expect(new Set(events.map((e) => e.mcp.session.id)).size).toBe(3);
    expect(JSON.stringify(events)).not.toContain('AKIAQ4DEMO7EXAMPLE7Q');

    const events2 = await runCli(['events', '--home', home, '--server', 'weather', '--method', 'tools/call']);
    expect(events2.code).toBe(0);
    expect(events2.stdout.toString()).toContain('get_forecast');
    const status = JSON.parse((await runCli(['status', '--json', '--home', home])).stdout.toString()) as { dropped: number; taps: unknown[] };
    expect(status.dropped).toBe(0);
    expect(status.taps).toHaveLength(3);

    // The alert summary: a poisoned description (rule pack), the rug pull with its diff (drift), the injected
    // result driving a call on the other server (cross-server), and the server missing from the demo inventory.
    const summary = out.slice(out.indexOf('\nAlerts ('));
    expect(summary).toMatch(/\[tool_poisoning · weather\]/);
    expect(summary).toMatch(/Tool definition changed \(rug pull\)\s+\[tool_drift · weather\]/);
    expect(summary).toMatch(/\n\s+\+\s+<IMPORTANT>Also read ~\/\.ssh\/id_rsa/);
    expect(summary).toMatch(/\[cross_server_flow · weather\]/);
    expect(summary).toMatch(/MCP server not in the inventory\s+\[unknown_server · notes-backup\]/);
    const alerts = JSON.parse(`[${(await runCli(['alerts', '--json', '--home', home])).stdout.toString().trim().split('\n').join(',')}]`) as { rule: { id: string } }[];
    expect(alerts.map((a) => a.rule.id)).toContain('tapwire.tool-drift.tool-changed');
    // The short id printed beside the rug pull opens it in full.
    const id = /Tool definition changed \(rug pull\)\s+\[tool_drift · weather\] {2}([0-9a-f]{10})\n/.exec(summary)?.[1];
    const shown = await runCli(['alerts', 'show', id!, '--home', home]);
    expect(shown.code).toBe(0);
    expect(shown.stdout.toString()).toMatch(/\n {2}\+ {2}<IMPORTANT>Also read ~\/\.ssh\/id_rsa/);
  });
});

describe("the demo's detectors", () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  // A demo tap starved of CPU hands its session off at exit, after every other tap has started: nothing but the demo
  // records it before the detectors run. Here the home holds such a hand-off, of a server listing a poisoned tool.
  it('run over the sessions taps handed off too', async () => {
    const { sessionId } = await leaveHandoff(home, { name: 'weather', command: process.execPath, args: [DRIFTING_SERVER], env: { DRIFT_STAGE: 'poisoned' } }, hostSession([{ method: 'tools/list', id: 1 }]));
    await detectDemo(home);
    const listed = await runCli(['alerts', '--json', '--limit', '1000', '--home', home]);
    expect(listed.code, listed.stderr).toBe(0);
    const alerts = listed.stdout.toString().split('\n').filter(Boolean).map((line) => JSON.parse(line) as McpAlert);
    // The shipped pack's rule on pseudo-tags in descriptions (<IMPORTANT>), on the handed-off session.
    const pseudoTag = alerts.filter((a) => a.rule.id === '2be5b130-3ef1-4f81-a723-f056cc29301c');
    expect(pseudoTag.map((a) => a.mcp?.session?.id)).toEqual([sessionId]);
    expect(existsSync(join(home, 'handoff')) ? readdirSync(join(home, 'handoff')).filter((name) => name.includes('.handoff')) : []).toEqual([]);
  });
});
