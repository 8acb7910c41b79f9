/** One alert: what fired and why, the matched text highlighted in its evidence, the drift diff, the way to its session. */
import { getJson } from './api.js';
import type { AlertDetail } from '../../api/consoleApiTypes.js';
import type { McpEvent } from '../../../pipeline/types/mcpEvent.js';
import { diffTable } from './diffTable.js';
import { fill, h, highlighted, localTime, needlesOf, readable, severityBadge } from './dom.js';
import { eventText } from './eventText.js';
import type { View } from './view.js';

const sessionHref = (session: string, focus?: string): string => `#/session/${encodeURIComponent(session)}${focus ? `?focus=${encodeURIComponent(focus)}` : ''}`;

function facts(alert: AlertDetail): HTMLElement {
  const fact = (label: string, value: Node | string | undefined): (HTMLElement | false)[] => (value === undefined || value === '' ? [false] : [h('dt', {}, label), h('dd', {}, value)]);
  return h(
    'dl',
    { class: 'facts' },
    fact('Time', localTime(alert['@timestamp'])),
    fact('Server', alert.server),
    fact('Tool', alert.tool),
    fact('Host', alert.host),
    fact('Session', alert.session ? h('a', { href: sessionHref(alert.session), 'data-testid': 'open-session' }, `${alert.session} — open timeline →`) : undefined),
    fact('Rule', `${alert.rule_id} (${alert.category.replace(/_/g, ' ')})`),
    fact('Alert id', alert.id),
  );
}

function evidenceCard(event: McpEvent, needles: string[]): HTMLElement {
  const text = eventText(event);
  const direction = event.mcp.direction === 'client_to_server' ? 'host → server' : event.mcp.direction === 'server_to_client' ? 'server → host' : '';
  return h(
    'article',
    { class: 'card evidence', 'data-testid': 'evidence' },
    h(
      'header',
      {},
      h('strong', {}, `${event.mcp.method?.name ?? event.event.action}${event.gen_ai?.tool?.name ? ` · ${event.gen_ai.tool.name}` : ''}`),
      h('span', { class: 'muted' }, ` ${event.mcp.message?.kind ?? ''} ${direction} · ${event.mcp.server.name} · ${localTime(event['@timestamp'])}`),
      h('a', { class: 'right', href: sessionHref(event.mcp.session.id, event.event.id) }, 'in its session →'),
    ),
    text ? h('pre', { class: 'content' }, highlighted(text, needles)) : h('p', { class: 'muted' }, 'no content recorded'),
  );
}

export const alertDetailView: View = async (main, _params, id) => {
  const alert = await getJson<AlertDetail>(`/api/alerts/${encodeURIComponent(id ?? '')}`);
  const needles = alert.matched_full.flatMap((m) => needlesOf(m.value));
  const { diff: _diff, approve: _approve, ...otherDetails } = alert.details;
  fill(main, 
    h('p', { class: 'crumbs' }, h('a', { href: '#/alerts' }, '← Alerts')),
    h('div', { class: 'toolbar' }, severityBadge(alert.severity), h('h1', { 'data-testid': 'alert-title' }, alert.title)),
    h('p', { class: 'lead', 'data-testid': 'alert-message' }, highlighted(alert.message, needles)),
    facts(alert),
    h('p', { class: 'muted' }, alert.description),
    alert.matched_full.length > 0 &&
      h(
        'section',
        {},
        h('h2', {}, 'Matched'),
        h('table', { class: 'grid matched', 'data-testid': 'matched' }, h('tbody', {}, alert.matched_full.map((m) => h('tr', {}, h('th', {}, m.field), h('td', {}, h('mark', {}, m.value ?? '(field present)')))))),
      ),
    alert.diff &&
      h(
        'section',
        {},
        h('h2', {}, 'Definition change'),
        diffTable(alert.diff),
        alert.approve && h('p', { class: 'muted' }, 'Decide in ', h('a', { href: '#/review' }, 'Review'), ' or run ', h('code', {}, alert.approve)),
      ),
    Object.keys(otherDetails).length > 0 && h('section', {}, h('h2', {}, 'Details'), h('pre', { class: 'content small' }, readable(otherDetails))),
    h(
      'section',
      {},
      h('h2', {}, `Evidence (${alert.evidence.length} event${alert.evidence.length === 1 ? '' : 's'})`),
      alert.evidence.map((e) => evidenceCard(e, needles)),
      alert.missing_evidence.length > 0 && h('p', { class: 'muted' }, `Not in the store any more: ${alert.missing_evidence.join(', ')}`),
    ),
  );
};
