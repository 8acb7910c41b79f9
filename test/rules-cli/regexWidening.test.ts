/**
 * The widened tier's transformation (detectors/sigma/regexWidening.ts): which bounds it widens, the widened pattern
 * and its Lucene form (written out by hand from RE2's and Lucene's syntax), and the superset property checked against
 * RE2 itself: every text the rule's pattern finds a match in, the widened expressions match; texts whose gap runs past
 * the bound are matched too; the classes, words and assertions of the rule still constrain.
 */
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { AutomatonTooLargeError, luceneRegexesOfRe2 } from '../../detectors/sigma/luceneRegex.js';
import { widenedLuceneRegexes } from '../../detectors/sigma/regexWidening.js';
import { luceneAsJs } from './luceneAsJs.js';

const NO_FLAGS = { caseInsensitive: false, multiLine: false, dotAll: false };

describe('widening bounded repeats of a character class', () => {
  // path_traversal_sequences' shape: an anchored prefix of up to 512 characters before three climbs.
  const climbs = '(?:\\.\\.[/\\\\]){3,}';
  const climbsInLucene = '(\\.\\.[\\/\\\\]){3,}.*';

  it('widens an anchored prefix the exact export refuses, keeping its class', () => {
    // Exactly, the automaton counts up to 512 characters while it reads the climbs: over the exporter's bound.
    expect(() => luceneRegexesOfRe2(`^[^\\n]{0,512}${climbs}`, NO_FLAGS)).toThrow(AutomatonTooLargeError);
    expect(widenedLuceneRegexes(`^[^\\n]{0,512}${climbs}`, NO_FLAGS)).toEqual({
      pattern: `^[^\\n]*${climbs}`,
      expressions: [`[^\\\n]*${climbsInLucene}`],
      repeats: [{ bound: '[^\\n]{0,512}', widened: '[^\\n]*' }],
    });
  });

  it('keeps the lower bound: {1,n} becomes +, {m,n} becomes {m,}', () => {
    expect(widenedLuceneRegexes(`^[^\\n]{1,512}${climbs}`, NO_FLAGS)?.expressions).toEqual([`[^\\\n]+${climbsInLucene}`]);
    expect(widenedLuceneRegexes(`^[^\\n]{2,512}${climbs}`, NO_FLAGS)).toMatchObject({ pattern: `^[^\\n]{2,}${climbs}`, expressions: [`[^\\\n]{2,}${climbsInLucene}`] });
    // A lazy quantifier stays lazy (it matches the same texts either way).
    expect(widenedLuceneRegexes(`^[^\\n]{0,512}?${climbs}`, NO_FLAGS)?.pattern).toBe(`^[^\\n]*?${climbs}`);
  });

  it('widens only the largest bounds needed, and names them as the pattern spells them', () => {
    expect(widenedLuceneRegexes(`^[^\\n]{0,512}x{0,4}${climbs}`, NO_FLAGS)).toEqual({
      pattern: `^[^\\n]*x{0,4}${climbs}`,
      expressions: [`[^\\\n]*x{0,4}${climbsInLucene}`],
      repeats: [{ bound: '[^\\n]{0,512}', widened: '[^\\n]*' }],
    });
  });

  it('never widens a repeated group (only a class), so a pattern that needs that stays refused', () => {
    expect(() => luceneRegexesOfRe2('^(?:ab){0,1000}(?:cd){0,1000}e', NO_FLAGS)).toThrow(AutomatonTooLargeError);
    expect(widenedLuceneRegexes('^(?:ab){0,1000}(?:cd){0,1000}e', NO_FLAGS)).toBeUndefined();
  });

  it('leaves exact counts {n} alone: widening them would not shrink the automaton', () => {
    expect(() => luceneRegexesOfRe2('^a{1000}b{1000}c', NO_FLAGS)).toThrow(AutomatonTooLargeError);
    expect(widenedLuceneRegexes('^a{1000}b{1000}c', NO_FLAGS)).toBeUndefined();
  });

  // A gap between two words after an unanchored start (the shape of the refused description rules), case-insensitive.
  const pattern = '\\bsend\\b[^\\n.!?]{0,300}\\b(?:data|files?)\\b';
  const flags = { caseInsensitive: true, multiLine: false, dotAll: false };
  const gap = (n: number): string => 'x '.repeat(n).slice(0, n);
  const texts = [
    'send data',
    'Please SEND the files',
    `send ${gap(298)} data`, // a gap of 300 (with its spaces): within the bound
    `send ${gap(299)} data`, // 301: past the bound
    `send ${gap(2000)} file`,
    'send it. data', // the gap's class excludes '.'
    'send it!\ndata',
    'sender data', // \b after send
    'resend data',
    'send databases',
    'send dataset files',
    '',
    'data send',
    `send ${gap(400)}. send data`,
  ];

  it('the widened expressions match every text the rule matches, and those past the bound; the rest still constrains', () => {
    expect(() => luceneRegexesOfRe2(pattern, flags)).toThrow(AutomatonTooLargeError);
    const widened = widenedLuceneRegexes(pattern, flags);
    expect(widened?.pattern).toBe('\\bsend\\b[^\\n.!?]*\\b(?:data|files?)\\b');
    expect(widened?.repeats).toEqual([{ bound: '[^\\n.!?]{0,300}', widened: '[^\\n.!?]*' }]);
    const expressions = (widened?.expressions ?? []).map(luceneAsJs);
    const matches = (text: string): boolean => expressions.some((e) => e.test(text));
    const rule = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
    // What RE2 says of the rule's pattern, and of the same pattern with an unbounded gap.
    const unboundedGap = RE2JS.compile('\\bsend\\b[^\\n.!?]*\\b(?:data|files?)\\b', RE2JS.CASE_INSENSITIVE);
    for (const text of texts) {
      if (rule.test(text)) expect(matches(text), JSON.stringify(text)).toBe(true);
      expect(matches(text), JSON.stringify(text)).toBe(unboundedGap.test(text));
    }
    expect(texts.filter((t) => matches(t) && !rule.test(t))).toEqual([`send ${gap(299)} data`, `send ${gap(2000)} file`]);
    expect(texts.filter((t) => !matches(t))).toEqual(['send it. data', 'send it!\ndata', 'sender data', 'resend data', 'send databases', '', 'data send']);
  });
});
