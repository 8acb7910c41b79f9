import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetectors as crossServerDetectors } from '../../detectors/crossServer/index.js';
import { createDetectors as postureDetectors } from '../../detectors/posture/index.js';
import { createDetectors as usageDetectors } from '../../detectors/usage/index.js';
import { checkAlert } from '../../pipeline/schemaValidator.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { busEvents, runCli, tempHome } from '../support/tapwireCli.js';
import { runFresh, ruleIds } from './detectorHarness.js';

/**
 * The demo runs its notes and weather servers (real SDK servers) behind `tapwire tap`; its weather
 * server poisons its description and a result to make the model read a credential note and send it
 * back. The events the taps recorded go through the runtime with every detector of this part; the
 * taps publish independently, so the bus interleaves the servers' events late, as it does live.
 */
describe('cross-server detection on the demo, captured by real taps', () => {
  const { home, remove } = tempHome();
  let events: McpEvent[];
  let alerts: McpAlert[];

  beforeAll(async () => {
    const demo = await runCli(['demo', '--home', home], { timeoutMs: 60_000 });
    expect(demo.code, demo.stderr).toBe(0);
    events = await busEvents(home);
    // As the live worker runs them: a 2 s reorder buffer puts the two taps' events back in event-time order.
    alerts = runFresh([...usageDetectors(), ...crossServerDetectors(), ...postureDetectors()], events, { reorderLatenessMs: 2_000 });
  });
  afterAll(remove);

  it('flags the shadowing description, the injected call and the credential flow, and nothing else', () => {
    for (const alert of alerts) expect(checkAlert(alert).errors).toEqual([]);
    // The weather tool is listed twice (before and after its rug pull): each definition shadows read_note.
    expect(ruleIds(alerts)).toEqual([
      'tapwire.cross-server.data-flow',
      'tapwire.cross-server.instruction-following',
      'tapwire.cross-server.shadowing',
      'tapwire.cross-server.shadowing',
    ]);
  });

  it('still catches the injected call and the credential flow in raw bus order, without the reorder buffer', () => {
    const raw = ruleIds(runFresh(crossServerDetectors(), events));
    expect(raw).toContain('tapwire.cross-server.data-flow');
    expect(raw).toContain('tapwire.cross-server.instruction-following');
    expect(raw).toContain('tapwire.cross-server.shadowing');
  });

  it('ties the credential sent to the weather server to the note it came from and to the instruction that asked for it', () => {
    const flow = alerts.find((a) => a.rule.id === 'tapwire.cross-server.data-flow')!;
    const byId = new Map(events.map((e) => [e.event.id, e]));
    const [source, instruction, sink] = flow.alert.source_event_ids.map((id) => byId.get(id)!);
    expect(flow.alert.source_event_ids).toHaveLength(3);
    expect(flow.event.severity).toBe(99);
    const cited = [source, instruction, sink].map((e) => `${e!.mcp.server.name}:${e!.gen_ai?.tool?.name}:${e!.mcp.message?.kind}`).sort();
    expect(cited).toEqual(['notes:read_note:response', 'weather:get_forecast:request', 'weather:get_forecast:response']);
    expect(flow.alert.details).toMatchObject({
      source: { server: 'notes', origin: 'read_note', private: true },
      sink: { server: 'weather', tool: 'get_forecast', arguments: ['context'], sensitive: true },
      evidence: { strength: 'secret', placeholders: [expect.stringMatching(/^\[REDACTED:aws_access_key_id:[0-9a-f]{8}\]$/)] },
      instructed_by: { server: 'weather', origin: 'get_forecast' },
    });
  });

  it('shows the injected instruction and the argument it supplied', () => {
    const instruction = alerts.find((a) => a.rule.id === 'tapwire.cross-server.instruction-following')!;
    expect(instruction.mcp?.server?.name).toBe('notes');
    expect(instruction.alert.details).toMatchObject({ instructing: { server: 'weather', kind: 'tool_result' }, evidence: { tool_named: true, copied_values: [{ argument: 'name', value: 'deploy-credentials' }] } });
    const shadowing = alerts.filter((a) => a.rule.id === 'tapwire.cross-server.shadowing');
    for (const alert of shadowing) expect(alert.alert.details).toMatchObject({ shadowing_server: { name: 'weather', tool: 'get_forecast' }, target_server: { name: 'notes', tool: 'read_note' } });
  });
});
