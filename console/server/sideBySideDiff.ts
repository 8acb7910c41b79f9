/**
 * A unified diff (as the drift detector writes it) laid out side by side: removed lines on the left, added lines on
 * the right, changes paired row by row, context on both sides.
 */
import { parsePatch } from 'diff';
import type { DiffRow, SideBySide } from '../api/consoleApiTypes.js';

export function sideBySide(unified: string): SideBySide {
  const [patch] = parsePatch(unified);
  const header = { left: [patch?.oldFileName, patch?.oldHeader].filter(Boolean).join('  '), right: [patch?.newFileName, patch?.newHeader].filter(Boolean).join('  ') };
  const rows: DiffRow[] = [];
  for (const [index, hunk] of (patch?.hunks ?? []).entries()) {
    if (index > 0) rows.push({ kind: 'gap' });
    let left = hunk.oldStart;
    let right = hunk.newStart;
    let removed: { line: number; text: string }[] = [];
    let added: { line: number; text: string }[] = [];
    const flush = (): void => {
      for (let i = 0; i < Math.max(removed.length, added.length); i += 1) {
        const l = removed[i];
        const r = added[i];
        const row: DiffRow = { kind: l && r ? 'changed' : l ? 'removed' : 'added' };
        if (l) row.left = l;
        if (r) row.right = r;
        rows.push(row);
      }
      removed = [];
      added = [];
    };
    for (const line of hunk.lines) {
      const text = line.slice(1);
      if (line.startsWith('-')) removed.push({ line: left++, text });
      else if (line.startsWith('+')) added.push({ line: right++, text });
      else if (line.startsWith(' ')) {
        flush();
        rows.push({ kind: 'context', left: { line: left++, text }, right: { line: right++, text } });
      }
    }
    flush();
  }
  return { header, rows };
}
