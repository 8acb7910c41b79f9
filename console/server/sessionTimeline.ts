/**
 * A session's timeline: its requests paired with their responses (by JSON-RPC id and direction), with durations,
 * tool arguments and results, beside the other sessions of the same host session (one host process talking to
 * several servers), and the cross-server flows the detectors found between them.
 */
import type { Store } from '../../pipeline/store.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { summarizeEvent } from '../../cli/eventSummary.js';
import { readableAlert } from '../../cli/alertView/alertView.js';
import type { Exchange, Flow, Lane, Timeline } from '../api/consoleApiTypes.js';

const EVENT_LIMIT = 100_000;

function requestKey(event: McpEvent, requestDirection: string | undefined): string | undefined {
  const id = event.jsonrpc?.request?.id;
  return id === undefined ? undefined : `${event.mcp.session.id}|${requestDirection}|${id}`;
}

const opposite = (direction: string | undefined): string | undefined => (direction === 'client_to_server' ? 'server_to_client' : direction === 'server_to_client' ? 'client_to_server' : undefined);

function exchangeOf(event: McpEvent): Exchange {
  const exchange: Exchange = {
    id: event.event.id,
    session: event.mcp.session.id,
    '@timestamp': event['@timestamp'],
    method: event.mcp.method?.name ?? event.event.action,
    kind: event.mcp.message?.kind ?? 'lifecycle',
    summary: summarizeEvent(event),
    event_ids: [event.event.id],
    alerts: [],
  };
  if (event.mcp.direction) exchange.direction = event.mcp.direction;
  const tool = event.gen_ai?.tool;
  if (tool?.name) exchange.tool = tool.name;
  if (tool?.call?.arguments !== undefined) exchange.arguments = tool.call.arguments;
  else if (event.mcp.params !== undefined) exchange.arguments = event.mcp.params;
  if (exchange.kind === 'request') exchange.unanswered = true;
  return exchange;
}

function addResponse(exchange: Exchange, response: McpEvent): void {
  exchange.event_ids.push(response.event.id);
  delete exchange.unanswered;
  const call = response.gen_ai?.tool?.call;
  exchange.result = call?.result ?? response.mcp.result ?? response.mcp.tools?.map((t) => ({ name: t.name, description: t.description, hash: t.hash }));
  if (response.mcp.message?.kind === 'error') exchange.error = { ...(response.error?.code ? { code: response.error.code } : {}), ...(response.error?.message ? { message: response.error.message } : {}) };
  if (response.event.duration !== undefined) exchange.duration_ms = response.event.duration / 1e6;
  exchange.summary = `${exchange.summary}  ⇢  ${summarizeEvent(response)}`;
}

/** Pairs events (in time order) into exchanges. */
export function pairExchanges(events: readonly McpEvent[]): Exchange[] {
  const exchanges: Exchange[] = [];
  const open = new Map<string, Exchange>();
  for (const event of events) {
    const kind = event.mcp.message?.kind;
    if (kind === 'response' || kind === 'error') {
      const request = open.get(requestKey(event, opposite(event.mcp.direction)) ?? '');
      if (request) {
        addResponse(request, event);
        open.delete(requestKey(event, opposite(event.mcp.direction)) as string);
        continue;
      }
    }
    const exchange = exchangeOf(event);
    exchanges.push(exchange);
    if (kind === 'request') {
      const key = requestKey(event, event.mcp.direction);
      if (key) open.set(key, exchange);
    }
  }
  return exchanges;
}

/** The event ids a cross-server alert connects: from the server whose content travelled, to the call it reached. */
function flowEnds(alert: McpAlert): [string, string] | undefined {
  const d = (alert.alert.details ?? {}) as Record<string, { event_id?: string } | undefined>;
  const from = d.source?.event_id ?? d.instructing?.event_id;
  const to = d.sink?.event_id ?? d.called?.event_id;
  return from && to ? [from, to] : undefined;
}

function byTime(a: McpEvent, b: McpEvent): number {
  return a['@timestamp'] < b['@timestamp'] ? -1 : a['@timestamp'] > b['@timestamp'] ? 1 : a.event.sequence - b.event.sequence;
}

/** The timeline of a session and its host session's siblings; undefined when the store has no such session. */
export async function sessionTimeline(store: Store, session: string): Promise<Timeline | undefined> {
  const own = await store.events({ session, limit: EVENT_LIMIT, order: 'asc' });
  const first = own[0];
  if (!first) return undefined;
  const hostSession = own.find((e) => e.mcp.host_session?.id)?.mcp.host_session?.id;
  const events = hostSession ? await store.events({ hostSession, limit: EVENT_LIMIT, order: 'asc' }) : own;
  events.sort(byTime);
  const lanes = new Map<string, Lane>();
  for (const event of events) {
    const id = event.mcp.session.id;
    if (lanes.has(id)) continue;
    const lane: Lane = { session: id, server: event.mcp.server.name, transport: event.mcp.transport, focus: id === session };
    lanes.set(id, lane);
  }
  for (const event of events) {
    const version = event.mcp.server.version;
    const lane = lanes.get(event.mcp.session.id);
    if (lane && version && !lane.server_version) lane.server_version = version;
  }
  const exchanges = pairExchanges(events);
  const exchangeOfEvent = new Map(exchanges.flatMap((x) => x.event_ids.map((id) => [id, x] as const)));
  const alerts = (await Promise.all([...lanes.keys()].map((s) => store.alerts({ session: s, limit: 10_000 })))).flat();
  const flows: Flow[] = [];
  for (const alert of alerts) {
    for (const id of alert.alert.source_event_ids) {
      const exchange = exchangeOfEvent.get(id);
      if (exchange && !exchange.alerts.includes(alert.alert.fingerprint)) exchange.alerts.push(alert.alert.fingerprint);
    }
    const ends = flowEnds(alert);
    const from = ends && exchangeOfEvent.get(ends[0]);
    const to = ends && exchangeOfEvent.get(ends[1]);
    if (from && to && from.session !== to.session) {
      const view = readableAlert(alert);
      flows.push({ alert: view.id, rule: view.title, severity: view.severity, from: from.id, to: to.id });
    }
  }
  const timeline: Timeline = { session, lanes: [...lanes.values()], exchanges, flows, alerts: alerts.map(readableAlert) };
  if (hostSession) timeline.host_session = hostSession;
  timeline.host = first.host.hostname;
  return timeline;
}
