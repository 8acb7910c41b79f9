/**
 * The pair marks the redactor gates its secret families on: a family is searched for only in text holding the first
 * two characters of one of its needed literals, so a pair the marks missed would leave a secret in place.
 */
import { describe, expect, it } from 'vitest';
import { AsciiBigrams, literalLeads } from '../../collectors/asciiBigrams.js';

describe('AsciiBigrams', () => {
  it('holds exactly the adjacent ASCII pairs of the text marked last', () => {
    const bigrams = new AsciiBigrams();
    const has = (literal: string): boolean => bigrams.holdsAny(literalLeads([literal]));
    bigrams.mark('xxsk-é-ant');
    expect(['xx', 'xs', 'sk', 'k-', '-a', 'an', 'nt'].filter(has)).toEqual(['xx', 'xs', 'sk', 'k-', '-a', 'an', 'nt']);
    // No pair spans the non-ASCII character, and pairs are ordered.
    expect(['--', 'ks', 'ss', 'tn'].filter(has)).toEqual([]);
    bigrams.mark('an');
    expect(has('sk')).toBe(false);
    expect(bigrams.holdsAny(literalLeads(['zz', 'ant']))).toBe(true);
    bigrams.mark('');
    expect(has('an')).toBe(false);
  });

  it('refuses a literal without two ASCII characters to lead with', () => {
    expect(() => literalLeads(['k'])).toThrow(/two ASCII/);
    expect(() => literalLeads(['é-'])).toThrow(/two ASCII/);
    expect(literalLeads(['sk-ant-', 'sk'])).toEqual([literalLeads(['sk'])[0], literalLeads(['sk'])[0]]);
  });
});
