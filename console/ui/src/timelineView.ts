/**
 * A session's timeline beside the other sessions of its host session, one column per server: each request with its
 * response, the duration, the arguments and result; cross-server flows drawn as arrows from the exchange whose
 * content travelled to the call it reached.
 */
import { getJson } from './api.js';
import type { Exchange, Timeline } from '../../api/consoleApiTypes.js';
import { fill, h, localTime, readable, severityBadge, svg } from './dom.js';
import type { View } from './view.js';

function seconds(from: string, to: string): string {
  return `+${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(3)} s`;
}

function exchangeCell(exchange: Exchange, focus: string | undefined, ruleOf: Map<string, string>): HTMLElement {
  const arrow = exchange.direction === 'server_to_client' ? '←' : exchange.direction === 'client_to_server' ? '→' : '·';
  const body: HTMLElement[] = [];
  if (exchange.arguments !== undefined) body.push(h('h4', {}, 'Arguments'), h('pre', { class: 'content small' }, readable(exchange.arguments)));
  if (exchange.result !== undefined) body.push(h('h4', {}, 'Result'), h('pre', { class: 'content small' }, readable(exchange.result)));
  if (exchange.error) body.push(h('h4', {}, 'Error'), h('pre', { class: 'content small' }, `${exchange.error.code ?? ''} ${exchange.error.message ?? ''}`.trim()));
  return h(
    'div',
    { class: `exchange kind-${exchange.kind}${exchange.alerts.length ? ' alerted' : ''}${focus && exchange.id === focus ? ' focus' : ''}`, id: `x-${exchange.id}`, 'data-testid': 'exchange' },
    h(
      'div',
      { class: 'exchange-head' },
      h('span', { class: 'arrow' }, arrow),
      h('strong', {}, exchange.method),
      exchange.tool && h('span', { class: 'tool' }, exchange.tool),
      exchange.duration_ms !== undefined && h('span', { class: 'duration', 'data-testid': 'duration' }, `${exchange.duration_ms < 10 ? exchange.duration_ms.toFixed(2) : exchange.duration_ms.toFixed(0)} ms`),
      exchange.unanswered && h('span', { class: 'badge warn' }, 'no response'),
      exchange.alerts.map((id, i) => h('a', { class: 'badge alert', href: `#/alert/${encodeURIComponent(id)}`, title: ruleOf.get(id) ?? 'open the alert' }, exchange.alerts.length > 1 ? `alert ${i + 1}` : 'alert')),
    ),
    h('div', { class: 'summary' }, exchange.summary),
    body.length > 0 && h('details', {}, h('summary', {}, 'arguments and result'), body),
  );
}

/** Draws the flows over the table, from the edge of one cell to the facing edge of the other. */
function drawFlows(container: HTMLElement, layer: SVGElement, timeline: Timeline): void {
  const box = container.getBoundingClientRect();
  layer.setAttribute('width', String(container.scrollWidth));
  layer.setAttribute('height', String(container.scrollHeight));
  const defs = svg('defs', {}, svg('marker', { id: 'arrowhead', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'flow-head' })));
  const paths: SVGElement[] = [defs];
  for (const flow of timeline.flows) {
    const from = container.querySelector<HTMLElement>(`[id="x-${CSS.escape(flow.from)}"]`);
    const to = container.querySelector<HTMLElement>(`[id="x-${CSS.escape(flow.to)}"]`);
    if (!from || !to) continue;
    const a = from.getBoundingClientRect();
    const b = to.getBoundingClientRect();
    const rightward = b.left >= a.left;
    const x1 = (rightward ? a.right : a.left) - box.left;
    const y1 = a.top + a.height / 2 - box.top;
    const x2 = (rightward ? b.left : b.right) - box.left;
    const y2 = b.top + b.height / 2 - box.top;
    const bend = Math.max(40, Math.abs(x2 - x1) / 2) * (rightward ? 1 : -1);
    paths.push(
      svg('path', { d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`, class: `flow flow-${flow.severity}`, 'marker-end': 'url(#arrowhead)', 'data-testid': 'flow-arrow' }, svg('title', {}, document.createTextNode(flow.rule))),
    );
  }
  layer.replaceChildren(...paths);
}

export const timelineView: View = async (main, params, id) => {
  const timeline = await getJson<Timeline>(`/api/sessions/${encodeURIComponent(id ?? '')}`);
  const focus = params.get('focus') ?? undefined;
  const start = timeline.exchanges[0]?.['@timestamp'] ?? new Date().toISOString();
  const column = new Map(timeline.lanes.map((lane, i) => [lane.session, i]));
  const ruleOf = new Map(timeline.alerts.map((a) => [a.id, `${a.severity}: ${a.title}`]));
  const table = h(
    'table',
    { class: 'timeline', 'data-testid': 'timeline' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { class: 'time-col' }, 'Time'),
        timeline.lanes.map((lane) =>
          h('th', { class: lane.focus ? 'focus-lane' : '' }, h('div', {}, lane.server, lane.server_version ? h('span', { class: 'muted' }, ` ${lane.server_version}`) : ''), h('a', { class: 'muted small', href: `#/session/${encodeURIComponent(lane.session)}` }, `session ${lane.session.slice(0, 8)} · ${lane.transport}`)),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      timeline.exchanges.map((x) =>
        h(
          'tr',
          {},
          h('td', { class: 'time-col nowrap', title: localTime(x['@timestamp']) }, seconds(start, x['@timestamp'])),
          timeline.lanes.map((lane, i) => h('td', { class: lane.focus ? 'focus-lane' : '' }, column.get(x.session) === i ? exchangeCell(x, focus, ruleOf) : '')),
        ),
      ),
    ),
  );
  const layer = svg('svg', { class: 'flows', 'aria-hidden': 'true' });
  const canvas = h('div', { class: 'timeline-canvas' }, table, layer);
  const exchangeById = new Map(timeline.exchanges.map((x) => [x.id, x]));
  const describe = (xid: string): string => {
    const x = exchangeById.get(xid);
    const lane = timeline.lanes.find((l) => l.session === x?.session);
    return `${lane?.server ?? '?'} ${x?.method ?? ''}${x?.tool ? ` ${x.tool}` : ''}`;
  };
  fill(main, 
    h('p', { class: 'crumbs' }, h('a', { href: '#/alerts' }, '← Alerts')),
    h('div', { class: 'toolbar' }, h('h1', {}, 'Session timeline')),
    h('p', { class: 'muted' }, `Host ${timeline.host ?? '?'}${timeline.host_session ? ` · host session ${timeline.host_session}` : ''} · ${timeline.lanes.length} server session${timeline.lanes.length === 1 ? '' : 's'} · ${timeline.exchanges.length} exchanges · started ${localTime(start)}`),
    timeline.flows.length > 0 &&
      h(
        'section',
        { class: 'flow-list', 'data-testid': 'flows' },
        h('h2', {}, 'Cross-server flows'),
        h('ul', {}, timeline.flows.map((f) => h('li', {}, severityBadge(f.severity), ' ', h('a', { href: `#/alert/${encodeURIComponent(f.alert)}` }, f.rule), `: ${describe(f.from)} ⟶ ${describe(f.to)}`))),
      ),
    canvas,
  );
  const redraw = (): void => drawFlows(canvas, layer, timeline);
  requestAnimationFrame(redraw);
  canvas.addEventListener('toggle', redraw, true);
  window.addEventListener('resize', redraw);
  if (focus) requestAnimationFrame(() => document.getElementById(`x-${focus}`)?.scrollIntoView({ block: 'center' }));
  return () => window.removeEventListener('resize', redraw);
};
