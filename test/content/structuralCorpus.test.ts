/**
 * The tier-1 detector over Tapwire's labelled corpus (test/corpus), through the detector runtime: no alert on any
 * benign item (real-world hard negatives: rules written for humans, markup, ZWNJ in natural text), and alerts of the
 * right kind on the poisoned definitions and injected results it is meant for. The floor is what the detectors reach
 * today, a little under, so a change that loses attacks fails.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusTranscript, loadCorpus, type CorpusItem } from '../../cli/ruleTesting/corpusItems.js';
import { transcriptEvents } from '../../cli/ruleTesting/transcriptEvents.js';
import { StructuralSignalDetector } from '../../detectors/content/structural/structuralSignalDetector.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { runFresh } from '../detectors/detectorHarness.js';
import { REPO_ROOT } from '../support/tapwireCli.js';

function alertsOf(item: CorpusItem): McpAlert[] {
  return runFresh([new StructuralSignalDetector()], transcriptEvents(item.file, corpusTranscript(item), { redact: item.redact }));
}

const corpus = (label: string): CorpusItem[] => {
  const { items, errors } = loadCorpus([join(REPO_ROOT, 'test', 'corpus', label)]);
  expect(errors).toEqual([]);
  return items;
};

describe('the tier-1 detector on the labelled corpus', () => {
  it('raises nothing on any benign item', () => {
    const flagged = corpus('benign').flatMap((item) => alertsOf(item).map((a) => `${item.id}: ${a.message}`));
    expect(flagged).toEqual([]);
  });

  it('flags poisoned definitions and injected results in the categories they belong to', () => {
    const items = corpus('malicious').filter((item) => item.category === 'tool_poisoning' || item.category === 'prompt_injection');
    const caught = items.filter((item) => alertsOf(item).some((a) => a.rule.category === item.category));
    // 19 of 43 today (tier 1 is the explainable floor; the rules and the learned tier cover the rest).
    expect(caught.length).toBeGreaterThanOrEqual(17);
  });
});
