/** The console's entry: a hash router over the pages, a header, and errors shown where the page would be. */
import { alertDetailView } from './alertDetailView.js';
import { alertsView } from './alertsView.js';
import { ApiError, getJson } from './api.js';
import { h } from './dom.js';
import { inventoryView } from './inventoryView.js';
import { reviewView } from './reviewView.js';
import { timelineView } from './timelineView.js';
import type { View } from './view.js';

const ROUTES: Record<string, { view: View; nav: string }> = {
  alerts: { view: alertsView, nav: 'alerts' },
  alert: { view: alertDetailView, nav: 'alerts' },
  session: { view: timelineView, nav: 'alerts' },
  inventory: { view: inventoryView, nav: 'inventory' },
  review: { view: reviewView, nav: 'review' },
};

const main = document.getElementById('main') as HTMLElement;
let dispose: (() => void) | void;
let rendering = 0;

async function render(): Promise<void> {
  const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name = 'alerts', ...rest] = path.split('/');
  const route = ROUTES[name] ?? ROUTES.alerts!;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) link.classList.toggle('active', link.dataset.nav === route.nav);
  dispose?.();
  dispose = undefined;
  const token = ++rendering;
  main.setAttribute('aria-busy', 'true');
  try {
    const stop = await route.view(main, new URLSearchParams(query), rest.length ? decodeURIComponent(rest.join('/')) : undefined);
    if (token === rendering) dispose = stop;
    else stop?.();
  } catch (error) {
    const message = error instanceof ApiError && error.status === 401 ? 'Not logged in: open the login URL that tapwire console printed.' : (error as Error).message;
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, message));
  } finally {
    main.removeAttribute('aria-busy');
  }
}

window.addEventListener('hashchange', () => void render());
void getJson<{ source: string }>('/api/overview').then(
  (o) => ((document.getElementById('source') as HTMLElement).textContent = o.source),
  () => undefined,
);
void render();
