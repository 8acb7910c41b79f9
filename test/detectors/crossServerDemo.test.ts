import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetectors as crossServerDetectors } from '../../detectors/crossServer/index.js';
import { createDetectors as postureDetectors } from '../../detectors/posture/index.js';
import { createDetectors as usageDetectors } from '../../detectors/usage/index.js';
import { checkAlert } from '../../pipeline/schemaValidator.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { DEMO_MS, runDemo } from '../support/loadBounds.js';
import { busEvents, tempHome } from '../support/tapwireCli.js';
import { runFresh, ruleIds } from './detectorHarness.js';

/** Whether `a` happened before `b`, two events of different sessions (see inEventTime). */
function happenedBefore(a: McpEvent, b: McpEvent): boolean {
  const [ta, tb] = [Date.parse(a['@timestamp']), Date.parse(b['@timestamp'])];
  if (ta !== tb) return ta < tb;
  return a.mcp.direction === 'server_to_client' && b.mcp.direction !== 'server_to_client';
}

/**
 * The events in the order they happened: each session in its own order (its sequence), the sessions merged by event
 * time. Times are whole milliseconds and the taps publish independently, so two servers' events can share one with the
 * bus holding them either way round (a starved tap hands off its whole session, recorded after the others': a stable
 * sort then put the weather call before the note it copies, and the flow was judged twice). Within one millisecond the
 * demo's host, which waits for each response before its next request, received a response before it sent a request
 * to another server.
 */
function inEventTime(events: readonly McpEvent[]): McpEvent[] {
  const sessions = new Map<string, McpEvent[]>();
  for (const event of events) sessions.set(event.mcp.session.id, [...(sessions.get(event.mcp.session.id) ?? []), event]);
  const queues = [...sessions.values()].map((session) => session.sort((a, b) => a.event.sequence - b.event.sequence));
  const merged: McpEvent[] = [];
  for (;;) {
    let next: McpEvent[] | undefined;
    for (const queue of queues) if (queue.length > 0 && (next === undefined || happenedBefore(queue[0]!, next[0]!))) next = queue;
    if (next === undefined) return merged;
    merged.push(next.shift()!);
  }
}

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
 * others'): the exact alerts are judged on the events in event-time order, as a reorder buffer gives
 * them when the taps keep up, and what must hold whatever the order on every order a tap can cause.
 */
describe('cross-server detection on the demo, captured by real taps', () => {
  const { home, remove } = tempHome();
  let events: McpEvent[];
  let alerts: McpAlert[];

  beforeAll(async () => {
    await runDemo(home);
    events = await busEvents(home);
    // Already in order (inEventTime): a reorder buffer would re-sort ties of one millisecond by arrival, the bus's order.
    alerts = runFresh([...usageDetectors(), ...crossServerDetectors(), ...postureDetectors()], inEventTime(events));
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

  // What a loaded CI machine produced once: the host made its second weather call (the one carrying the credential) in
  // the millisecond the note arrived, and the notes tap, starved, handed its session off, so the bus held the call first.
  it('orders a call and the response it copies within one millisecond, whichever session the bus holds last', () => {
    const note = events.find((e) => e.mcp.server.name === 'notes' && e.gen_ai?.tool?.name === 'read_note' && e.mcp.message?.kind === 'response')!;
    const call = events.findLast((e) => e.mcp.server.name === 'weather' && e.gen_ai?.tool?.name === 'get_forecast' && e.mcp.message?.kind === 'request')!;
    const tied = landingLast(events.map((e) => (e === call ? { ...e, '@timestamp': note['@timestamp'] } : e)), 'notes');
    const raised = runFresh([...usageDetectors(), ...crossServerDetectors(), ...postureDetectors()], inEventTime(tied));
    expect(ruleIds(raised)).toEqual(ruleIds(alerts));
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
