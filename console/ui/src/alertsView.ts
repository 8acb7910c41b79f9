/** The alert list: filters in the URL, newest first, refreshed every few seconds; new alerts are marked. */
import { getJson } from './api.js';
import type { AlertList } from '../../api/consoleApiTypes.js';

type AlertRow = AlertList['alerts'][number];
import { fill, h, localTime, severityBadge } from './dom.js';
import type { View } from './view.js';

const POLL_MS = 3000;
const FILTERS = ['severity', 'rule', 'server', 'host', 'since'] as const;
const SINCE: Record<string, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

function query(params: URLSearchParams): string {
  const q = new URLSearchParams();
  for (const name of ['severity', 'rule', 'server', 'host'] as const) {
    const value = params.get(name);
    if (value) q.set(name, value);
  }
  const since = SINCE[params.get('since') ?? ''];
  if (since !== undefined) q.set('since', new Date(Date.now() - since).toISOString());
  return q.toString();
}

function filterForm(params: URLSearchParams, rows: AlertRow[]): HTMLElement {
  const options = (name: string, values: string[], all: string, labels?: Map<string, string>): HTMLElement =>
    h('select', { name, 'data-testid': `filter-${name}` }, h('option', { value: '' }, all), values.map((v) => h('option', { value: v, selected: params.get(name) === v }, labels?.get(v) ?? v)));
  const distinct = (pick: (r: AlertRow) => string | undefined): string[] => [...new Set(rows.map(pick).filter((v): v is string => !!v))].sort();
  const current = (name: string): string[] => (params.get(name) ? [params.get(name) as string] : []);
  const form = h(
    'form',
    { class: 'filters', 'data-testid': 'filters' },
    h('label', {}, 'Severity ', options('severity', ['low', 'medium', 'high', 'critical'], 'any')),
    h('label', {}, 'Rule ', options('rule', [...new Set([...current('rule'), ...distinct((r) => r.rule_id)])], 'any', new Map(rows.map((r) => [r.rule_id, r.title])))),
    h('label', {}, 'Server ', options('server', [...new Set([...current('server'), ...distinct((r) => r.server)])], 'any')),
    h('label', {}, 'Host ', options('host', [...new Set([...current('host'), ...distinct((r) => r.host)])], 'any')),
    h('label', {}, 'Time ', options('since', Object.keys(SINCE), 'all time')),
  );
  form.addEventListener('change', () => {
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const value = (form.elements.namedItem(name) as HTMLSelectElement).value;
      if (value) next.set(name, value);
    }
    location.hash = `#/alerts${next.size ? `?${next}` : ''}`;
  });
  return form;
}

function row(alert: AlertRow, fresh: boolean): HTMLElement {
  const open = (): void => void (location.hash = `#/alert/${encodeURIComponent(alert.short_id)}`);
  return h(
    'tr',
    { class: `clickable${fresh ? ' fresh' : ''}`, 'data-alert': alert.id, onclick: open, tabindex: 0, onkeydown: (e) => (e as KeyboardEvent).key === 'Enter' && open() },
    h('td', { class: 'nowrap' }, localTime(alert['@timestamp'])),
    h('td', {}, severityBadge(alert.severity)),
    h(
      'td',
      {},
      h('a', { href: `#/alert/${encodeURIComponent(alert.short_id)}`, class: 'title' }, alert.title),
      (alert.count ?? 1) > 1 && h('span', { class: 'badge repeat', title: 'identical alerts in this session' }, `×${alert.count}`),
      h('div', { class: 'muted small' }, `${alert.category.replace(/_/g, ' ')} · ${alert.short_id}`),
    ),
    h('td', {}, alert.server ?? ''),
    h('td', {}, alert.host ?? ''),
    h('td', { class: 'message' }, h('div', { class: 'clamp', title: alert.message }, alert.message)),
  );
}

export const alertsView: View = async (main, params) => {
  let seen: Set<string> | undefined;
  let timer: number | undefined;
  const status = h('span', { class: 'live', 'data-testid': 'live' }, 'live');
  const count = h('span', { class: 'count', 'data-testid': 'alert-count' });
  const table = h('div', {});
  let form: HTMLElement | undefined;
  const refresh = async (): Promise<void> => {
    const { alerts, truncated } = await getJson<AlertList>(`/api/alerts?${query(params)}`);
    const fresh = (a: AlertRow): boolean => seen !== undefined && !seen.has(a.id);
    count.textContent = `${alerts.length}${truncated ? '+ (list cut at the limit)' : ''} alert${alerts.length === 1 ? '' : 's'}`;
    fill(table, 
      alerts.length === 0
        ? h('p', { class: 'empty' }, 'No alerts match. Alerts appear here as the detectors (tapwire up, tapwire detect) raise them.')
        : h(
            'table',
            { class: 'grid alerts', 'data-testid': 'alert-table' },
            h('thead', {}, h('tr', {}, ['Time', 'Severity', 'Rule', 'Server', 'Host', 'Message'].map((t) => h('th', {}, t)))),
            h('tbody', {}, alerts.map((a) => row(a, fresh(a)))),
          ),
    );
    seen = new Set([...(seen ?? []), ...alerts.map((a) => a.id)]);
    if (!form) {
      // The filter choices come from the first answer; rebuilding them while someone picks one would lose the pick.
      form = filterForm(params, alerts);
      fill(main, h('div', { class: 'toolbar' }, h('h1', {}, 'Alerts'), count, status), form, table);
    }
  };
  await refresh();
  const tick = (): void => {
    timer = window.setTimeout(() => {
      refresh().then(
        () => status.classList.remove('stale'),
        () => status.classList.add('stale'),
      ).finally(tick);
    }, POLL_MS);
  };
  tick();
  return () => window.clearTimeout(timer);
};
