/**
 * A readable unified diff between a pinned definition and the one a server now presents: the text the model reads
 * (description or instructions) line by line, then each other part (schemas, annotations) as key-sorted JSON.
 */
import { FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';
import type { PinnedDefinition } from './pinnedDefinition.js';

/** The diff, and counts for a one-line summary. */
export interface DefinitionDiff {
  /** Unified diff with ---/+++ headers; empty when the documents are equal. */
  unified: string;
  added: number;
  removed: number;
  /** The first added line that carries text, for messages. */
  firstAdded?: string;
  /** Parts that differ: "description", "inputSchema", … */
  changedParts: string[];
}

const TEXT_LABEL: Record<PinnedDefinition['kind'], string> = { tool: 'description', prompt: 'description', resource: 'description', instructions: 'instructions' };

function sortedJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v),
    2,
  );
}

/** The parts of a definition as labelled, indented text blocks. */
function partsOf(definition: PinnedDefinition | undefined): Map<string, string> {
  const parts = new Map<string, string>();
  if (!definition) return parts;
  parts.set(TEXT_LABEL[definition.kind], definition.text);
  for (const key of Object.keys(definition.shape ?? {}).sort()) parts.set(key, sortedJson(definition.shape?.[key]));
  return parts;
}

function documentOf(parts: Map<string, string>, labels: readonly string[]): string {
  return labels
    .filter((label) => parts.has(label))
    .map((label) => `${label}:\n${(parts.get(label) as string).split('\n').map((line) => `  ${line}`).join('\n')}\n`)
    .join('');
}

/** Diffs `before` (the pin; undefined when only its hash is known) against `after`. */
export function diffDefinitions(name: string, before: PinnedDefinition | undefined, after: PinnedDefinition | undefined): DefinitionDiff {
  const oldParts = partsOf(before);
  const newParts = partsOf(after);
  const labels = [...new Set([...oldParts.keys(), ...newParts.keys()])];
  const changedParts = labels.filter((label) => oldParts.get(label) !== newParts.get(label));
  const patch = structuredPatch(`pinned ${name}`, `presented ${name}`, documentOf(oldParts, labels), documentOf(newParts, labels), hashLabel(before), hashLabel(after), { context: 3 });
  let added = 0;
  let removed = 0;
  let firstAdded: string | undefined;
  for (const line of patch.hunks.flatMap((h) => h.lines)) {
    if (line.startsWith('+')) {
      added += 1;
      const text = line.slice(1).trim();
      if (firstAdded === undefined && text !== '' && !text.endsWith(':')) firstAdded = text;
    } else if (line.startsWith('-')) removed += 1;
  }
  const result: DefinitionDiff = { unified: patch.hunks.length > 0 ? formatPatch(patch, FILE_HEADERS_ONLY) : '', added, removed, changedParts };
  if (firstAdded !== undefined) result.firstAdded = firstAdded;
  return result;
}

function hashLabel(definition: PinnedDefinition | undefined): string | undefined {
  return definition === undefined ? undefined : `sha256:${definition.hash.slice(0, 16)}`;
}

/** "description +2 −0 lines, first added: “…”" — a diff in one phrase. */
export function summarizeDiff(diff: DefinitionDiff, maxQuote = 120): string {
  const parts = diff.changedParts.length > 0 ? diff.changedParts.join(', ') : 'definition';
  const quote = diff.firstAdded === undefined ? '' : `; first added line: "${diff.firstAdded.length > maxQuote ? `${diff.firstAdded.slice(0, maxQuote - 1)}…` : diff.firstAdded}"`;
  return `${parts} changed (+${diff.added} −${diff.removed} lines${quote})`;
}
