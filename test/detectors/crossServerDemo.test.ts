import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetectors as crossServerDetectors } from '../../detectors/crossServer/index.js';
import { createDetectors as postureDetectors } from '../../detectors/posture/index.js';
import { createDetectors as usageDetectors } from '../../detectors/usage/index.js';
import { eventTimeOf, isoTimestamp } from '../../pipeline/eventTime.js';
import { checkAlert } from '../../pipeline/schemaValidator.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { REORDER_LATENESS_MS } from '../../service/detectionSetup.js';
import { DEMO_MS, runDemo } from '../support/loadBounds.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { runFresh, ruleIds } from './detectorHarness.js';

/** The bus as it is when `server`'s tap handed its session off: recorded after every other session's events. */
function landingLast(events: readonly McpEvent[], server: string): McpEvent[] {
  return [...events.filter((e) => e.mcp.server.name !== server), ...events.filter((e) => e.mcp.server.name === server)];
}

/**
 * The demo runs its notes and weather servers (real SDK servers) behind `tapwire tap`; its weather
 * server poisons its description and a result to make the model read a credential note and send it
 * back. The events the taps recorded go through the runtime with every detector of this part. The
 * taps publish independently, so the bus interleaves the servers' events late, as it does live; how
 * late depends on the CPU the taps got (a starved tap hands its whole session off, recorded after the
 * others'): the exact alerts are judged with the reorder buffer, as `tapwire up` runs them, and what
 * must hold whatever the order on every order a tap can cause.
 */
describe('cross-server detection on the demo, captured by real taps', () => {
  const { home, remove } = tempHome();
  let events: McpEvent[];
  let alerts: McpAlert[];

  beforeAll(async () => {
    await runDemo(home);
    events = await busEvents(home);
    alerts = runFresh([...usageDetectors(), ...crossServerDetectors(), ...postureDetectors()], events, { reorderLatenessMs: REORDER_LATENESS_MS });
  }, DEMO_MS);
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

  // What loaded CI machines produced: the host made its second weather call (the one carrying the credential) in the
  // millisecond the note arrived, and the notes tap, starved, handed its session off, so the bus held the call first.
  // At whole milliseconds the buffer broke that tie by bus order and judged the flow twice.
  it('orders a call made within the millisecond of the response it copies, whichever session the bus holds last', () => {
    const note = events.find((e) => e.mcp.server.name === 'notes' && e.gen_ai?.tool?.name === 'read_note' && e.mcp.message?.kind === 'response')!;
    const call = events.findLast((e) => e.mcp.server.name === 'weather' && e.gen_ai?.tool?.name === 'get_forecast' && e.mcp.message?.kind === 'request')!;
    const sameMillisecond = isoTimestamp(eventTimeOf(note['@timestamp']) + 0.001);
    const tied = events.map((e) => (e === call ? { ...e, '@timestamp': sameMillisecond } : e));
    for (const server of ['notes', 'weather', 'notes-backup']) {
      const raised = runFresh([...usageDetectors(), ...crossServerDetectors(), ...postureDetectors()], landingLast(tied, server), { reorderLatenessMs: REORDER_LATENESS_MS });
      expect(ruleIds(raised), `${server} last`).toEqual(ruleIds(alerts));
    }
  });

  it('still catches the injected call and the credential flow in raw bus order, without the reorder buffer', () => {
    const raw = ruleIds(runFresh(crossServerDetectors(), events));
    expect(raw).toContain('tapwire.cross-server.data-flow');
    expect(raw).toContain('tapwire.cross-server.instruction-following');
    expect(raw).toContain('tapwire.cross-server.shadowing');
  });

  /** The events a data-flow alert cites, as server:tool:kind, sorted. */
  const cited = (flow: McpAlert): string[] => {
    const byId = new Map(events.map((e) => [e.event.id, e]));
    return flow.alert.source_event_ids.map((id) => byId.get(id)!).map((e) => `${e.mcp.server.name}:${e.gen_ai?.tool?.name}:${e.mcp.message?.kind}`).sort();
  };
  const CREDENTIAL_FLOW = ['notes:read_note:response', 'weather:get_forecast:request', 'weather:get_forecast:response'];

  it('ties the credential sent to the weather server to the note it came from and to the instruction that asked for it', () => {
    const flow = alerts.find((a) => a.rule.id === 'tapwire.cross-server.data-flow')!;
    expect(flow.alert.source_event_ids).toHaveLength(3);
    expect(flow.event.severity).toBe(99);
    expect(cited(flow)).toEqual(CREDENTIAL_FLOW);
    expect(flow.alert.details).toMatchObject({
      source: { server: 'notes', origin: 'read_note', private: true },
      sink: { server: 'weather', tool: 'get_forecast', arguments: ['context'], sensitive: true },
      evidence: { strength: 'secret', placeholders: [expect.stringMatching(/^\[REDACTED:aws_access_key_id:[0-9a-f]{8}\]$/)] },
      instructed_by: { server: 'weather', origin: 'get_forecast' },
    });
  });

  // A session that lands after the call it explains is judged as it arrives: its first source strong enough once stood
  // for the call (the summarize_notes prompt, which quotes the same note) and the note read at the weather server's
  // request, arriving after it, went unreported with the instruction. A stronger flow now alerts too.
  it('cites the note and the instruction whichever session a hand-off puts last on the bus', () => {
    for (const server of ['notes', 'weather']) {
      const raised = runFresh(crossServerDetectors(), landingLast(events, server));
      const flows = raised.filter((a) => a.rule.id === 'tapwire.cross-server.data-flow');
      const strongest = flows.reduce((best, flow) => ((flow.alert.details as { score: number }).score > (best.alert.details as { score: number }).score ? flow : best));
      expect(cited(strongest), `${server} last`).toEqual(CREDENTIAL_FLOW);
      expect(strongest.event.severity, `${server} last`).toBe(99);
      expect(ruleIds(raised), `${server} last`).toContain('tapwire.cross-server.instruction-following');
    }
  });

  it('shows the injected instruction and the argument it supplied', () => {
    const instruction = alerts.find((a) => a.rule.id === 'tapwire.cross-server.instruction-following')!;
    expect(instruction.mcp?.server?.name).toBe('notes');
    expect(instruction.alert.details).toMatchObject({ instructing: { server: 'weather', kind: 'tool_result' }, evidence: { tool_named: true, copied_values: [{ argument: 'name', value: 'deploy-credentials' }] } });
    const shadowing = alerts.filter((a) => a.rule.id === 'tapwire.cross-server.shadowing');
    for (const alert of shadowing) expect(alert.alert.details).toMatchObject({ shadowing_server: { name: 'weather', tool: 'get_forecast' }, target_server: { name: 'notes', tool: 'read_note' } });
  });
});
