/** The literal prefilter's automaton finds a literal exactly where String.includes does (it decides which rules run). */
import { describe, expect, it } from 'vitest';
import { LiteralAutomaton } from '../../detectors/sigma/literalAutomaton.js';

function found(literals: readonly string[], text: string): string[] {
  const marks = literals.map(() => 0);
  new LiteralAutomaton(literals).mark(text, marks, 1);
  return literals.filter((_, id) => marks[id] === 1);
}

describe('LiteralAutomaton', () => {
  it('finds overlapping literals, literals inside others and literals after a failed longer one', () => {
    const literals = ['he', 'she', 'his', 'hers', 'ushers', 'sh'];
    expect(found(literals, 'ushers')).toEqual(['he', 'she', 'hers', 'ushers', 'sh']);
    expect(found(literals, 'ahishe')).toEqual(['he', 'she', 'his', 'sh']);
    expect(found(literals, 'h e r s')).toEqual([]);
  });

  it('matches code units as includes does: surrogate halves, control and bidi characters, nothing outside the literals', () => {
    const tag = '\u{E0041}';
    const literals = ['\u202E', tag, '\uDB40', 'ab\u0000c', 'é'];
    expect(found(literals, `x${tag}y`)).toEqual([tag, '\uDB40']);
    expect(found(literals, 'ab\u0000c \u202E')).toEqual(['\u202E', 'ab\u0000c']);
    expect(found(literals, 'e\u0301 É ab c')).toEqual([]);
  });

  it('agrees with String.includes on random texts over a small alphabet', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const alphabet = ['a', 'b', 'c', 'A', '\u200B', '\uD83D', '\uDE00'];
    const word = (length: number): string => Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');
    for (let round = 0; round < 200; round++) {
      const literals = [...new Set(Array.from({ length: 1 + random(30) }, () => word(1 + random(5))))];
      const text = word(random(60));
      expect(found(literals, text), `${JSON.stringify(literals)} in ${JSON.stringify(text)}`).toEqual(literals.filter((l) => text.includes(l)));
    }
  });

  it('marks each literal once per stamp and reports only new marks', () => {
    const automaton = new LiteralAutomaton(['ab', 'b']);
    const marks = [0, 0];
    expect(automaton.mark('abab', marks, 1)).toBe(2);
    expect(automaton.mark('b', marks, 1)).toBe(0);
    expect(automaton.mark('b', marks, 2)).toBe(1);
    expect(marks).toEqual([1, 2]);
  });
});
