/** A definition diff side by side: pinned on the left, presented on the right, changed words readable at a glance. */
import type { SideBySide } from '../../api/consoleApiTypes.js';
import { h } from './dom.js';

function cell(side: 'left' | 'right', kind: string, line?: { line: number; text: string }): HTMLElement[] {
  const mark = kind === 'context' || !line ? '' : side === 'left' ? 'del' : 'ins';
  return [h('td', { class: `ln ${mark}` }, line ? line.line : ''), h('td', { class: `code ${mark}` }, line ? line.text : '')];
}

export function diffTable(diff: SideBySide): HTMLElement {
  if (diff.rows.length === 0) return h('p', { class: 'muted' }, 'No textual difference (only the hash is known for the pinned side).');
  return h(
    'table',
    { class: 'diff', 'data-testid': 'diff' },
    h('colgroup', {}, h('col', { class: 'ln-col' }), h('col', {}), h('col', { class: 'ln-col' }), h('col', {})),
    h('thead', {}, h('tr', {}, h('th', { colspan: 2 }, diff.header.left || 'pinned'), h('th', { colspan: 2 }, diff.header.right || 'presented'))),
    h(
      'tbody',
      {},
      diff.rows.map((row) =>
        row.kind === 'gap' ? h('tr', { class: 'gap' }, h('td', { colspan: 4 }, '⋯')) : h('tr', { class: row.kind }, cell('left', row.kind, row.left), cell('right', row.kind, row.right)),
      ),
    ),
  );
}
