/** The inventory: every server seen, where and when, and each tool definition with its pin. */
import { getJson } from './api.js';
import type { InventoryServer, InventoryTool } from '../../api/consoleApiTypes.js';
import { fill, h, localTime } from './dom.js';
import type { View } from './view.js';

function pinCell(tool: InventoryTool): HTMLElement {
  if (!tool.pin) return h('span', { class: 'muted' }, 'not pinned');
  return tool.pin.matches
    ? h('span', { class: 'pin ok', title: `pinned ${localTime(tool.pin.since)}` }, `✓ pinned (${tool.pin.source})`)
    : h('span', { class: 'pin differs', title: `pin sha256:${tool.pin.hash}` }, `✗ differs from pin ${tool.pin.hash.slice(0, 12)} (${tool.pin.source})`);
}

function serverCard(server: InventoryServer): HTMLElement {
  return h(
    'article',
    { class: 'card server', 'data-testid': 'server' },
    h(
      'header',
      {},
      h('h2', {}, server.name, server.version ? h('span', { class: 'muted' }, ` ${server.version}`) : ''),
      server.reported_name && server.reported_name !== server.name && h('span', { class: 'badge warn' }, `calls itself “${server.reported_name}”`),
      server.pending_changes > 0 && h('a', { class: 'badge alert', href: '#/review' }, `${server.pending_changes} change${server.pending_changes === 1 ? '' : 's'} to review`),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Identity'),
      h('dd', {}, h('code', {}, server.id)),
      h('dt', {}, 'Transport'),
      h('dd', {}, server.transport),
      h('dt', {}, 'Hosts'),
      h('dd', {}, server.hosts.join(', ')),
      h('dt', {}, 'Seen'),
      h('dd', {}, `${localTime(server.first_seen)} — ${localTime(server.last_seen)} · ${server.sessions} session${server.sessions === 1 ? '' : 's'}, ${server.events} events`),
    ),
    server.tools.length === 0
      ? h('p', { class: 'muted' }, 'No tools listed.')
      : h(
          'table',
          { class: 'grid tools' },
          h('thead', {}, h('tr', {}, ['Tool', 'sha256', 'Pin', 'First seen', 'Last seen', 'Description'].map((t) => h('th', {}, t)))),
          h(
            'tbody',
            {},
            server.tools.map((tool) =>
              h('tr', {}, h('td', {}, h('strong', {}, tool.name)), h('td', {}, h('code', { title: tool.hash }, tool.hash.slice(0, 12))), h('td', {}, pinCell(tool)), h('td', { class: 'nowrap' }, localTime(tool.first_seen)), h('td', { class: 'nowrap' }, localTime(tool.last_seen)), h('td', { class: 'description' }, tool.description ?? '')),
            ),
          ),
        ),
  );
}

export const inventoryView: View = async (main) => {
  const { servers } = await getJson<{ servers: InventoryServer[] }>('/api/inventory');
  fill(main, 
    h('div', { class: 'toolbar' }, h('h1', {}, 'Inventory'), h('span', { class: 'count' }, `${servers.length} server${servers.length === 1 ? '' : 's'}`)),
    servers.length === 0 ? h('p', { class: 'empty' }, 'No servers seen yet.') : servers.map(serverCard),
  );
};
