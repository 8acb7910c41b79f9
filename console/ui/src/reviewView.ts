/** The review of changed tool definitions: the diff in front of the reviewer, then approve or reject that exact version. */
import { ApiError, getJson, postJson } from './api.js';
import type { DecisionRequest, ReviewItem } from '../../api/consoleApiTypes.js';
import { diffTable } from './diffTable.js';
import { fill, h, localTime } from './dom.js';
import type { View } from './view.js';

function reviewCard(item: ReviewItem, onDecided: () => void): HTMLElement {
  const outcome = h('p', { class: 'outcome', 'data-testid': 'outcome', role: 'status' });
  const buttons: HTMLButtonElement[] = [];
  const decide = async (decision: 'approve' | 'reject'): Promise<void> => {
    for (const b of buttons) b.disabled = true;
    try {
      const request: DecisionRequest = { server_id: item.server_id, key: item.key, hash: item.hash, decision };
      await postJson('/api/decisions', request);
      outcome.textContent =
        decision === 'approve'
          ? `Approved: this definition becomes the pin when ${item.server_name} next presents it.`
          : `Rejected: the old pin stays, and each time ${item.server_name} serves this definition it alerts as known-bad.`;
      outcome.className = `outcome ${decision}`;
      onDecided();
    } catch (error) {
      outcome.textContent = `Not recorded: ${(error as Error).message}`;
      outcome.className = 'outcome failed';
      if (!(error instanceof ApiError && error.status === 409)) for (const b of buttons) b.disabled = false;
    }
  };
  buttons.push(
    h('button', { type: 'button', class: 'approve', 'data-testid': 'approve', onclick: () => void decide('approve') }, 'Approve this version'),
    h('button', { type: 'button', class: 'reject', 'data-testid': 'reject', onclick: () => void decide('reject') }, 'Reject'),
  );
  return h(
    'article',
    { class: 'card review', 'data-testid': 'change' },
    h('header', {}, h('h2', {}, `${item.server_name} · ${item.item}`), h('span', { class: `badge change-${item.change}` }, item.change)),
    h(
      'p',
      { class: 'muted' },
      `First presented ${localTime(item.first_seen)}, alerted in ${item.sessions.length} session${item.sessions.length === 1 ? '' : 's'}. `,
      `Pinned sha256 ${item.pinned_hash?.slice(0, 16) ?? '—'}${item.pin_source ? ` (${item.pin_source})` : ''} → presented ${item.hash.slice(0, 16)}.`,
    ),
    diffTable(item.diff),
    h('div', { class: 'actions' }, buttons, h('span', { class: 'muted small' }, 'same as ', h('code', {}, item.command))),
    outcome,
  );
}

export const reviewView: View = async (main) => {
  const { changes } = await getJson<{ changes: ReviewItem[] }>('/api/changes');
  const count = h('span', { class: 'count' });
  let open = changes.length;
  const update = (): void => void (count.textContent = `${open} waiting`);
  update();
  fill(main, 
    h('div', { class: 'toolbar' }, h('h1', {}, 'Review changed tools'), count),
    h('p', { class: 'muted' }, 'A server presented a definition that differs from its pin. Read the diff, then approve it (it becomes the pin) or reject it (the pin stays, and serving it again alerts as known-bad).'),
    changes.length === 0
      ? h('p', { class: 'empty', 'data-testid': 'no-changes' }, 'Nothing waiting for review.')
      : changes.map((c) =>
          reviewCard(c, () => {
            open -= 1;
            update();
          }),
        ),
  );
};
