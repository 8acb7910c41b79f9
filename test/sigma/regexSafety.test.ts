/** The `re` modifier cannot be turned against the engine: unsafe patterns are refused, matching is linear and bounded. */
import { describe, expect, it } from 'vitest';
import { compileSafeRegex, requiredLiteral, unsafeRegexReason } from '../../detectors/sigma/safeRegex.js';
import { toolResult } from './mcpEvents.js';
import { engineFor, ruleText } from './ruleHarness.js';

const MEBIBYTE = 1 << 20;

function resultRule(pattern: string): string {
  return ruleText({ category: 'tool_result', detection: `sel:\n    mcp.text.result|re: '${pattern}'\ncondition: sel` });
}

describe('regex safety', () => {
  it('accepts ordinary patterns and refuses catastrophic ones', () => {
    for (const pattern of ['(\\d{1,3}\\.){3}\\d{1,3}', 'ignore (all )?previous instructions', '[a-z]+@[a-z]+\\.com', 'a.*b.*c', '(ab)+c', '[(+*]+', 'x{2,}y']) {
      expect(unsafeRegexReason(pattern)).toBeUndefined();
    }
    expect(unsafeRegexReason('(a+)+$')).toMatch(/nested unbounded quantifier/);
    expect(unsafeRegexReason('((ab)*c)*')).toMatch(/nested unbounded quantifier/);
    expect(unsafeRegexReason('(a|b{2,})+')).toMatch(/nested unbounded quantifier/);
    expect(unsafeRegexReason('(.)\\1')).toMatch(/backreference/);
    expect(unsafeRegexReason('(?<n>a)\\k<n>')).toMatch(/backreference/);
    expect(unsafeRegexReason('(?<!x)y')).toMatch(/lookaround/);
  });

  it.each([
    ['read [^ ]*(\\.ssh|\\.aws)', 'read '],
    ['(curl|wget) https?://', ' http'],
    ['AKIA[0-9A-Z]{16}', 'AKIA'],
    ['x\\.y\\.zz+', 'x.y.zz'],
    ['ignore (all )?previous instructions', 'previous instructions'],
    ['abc?defg', 'defg'],
    ['a{0,3}bcd', 'bcd'],
    ['[A-Za-z0-9+/]{200,}={0,2}', undefined],
    ['abc|def', undefined],
    ['(?i)abcdef', undefined],
    ['^/etc/(passwd|shadow)$', '/etc/'],
  ])('the literal every match of %s needs is %s', (pattern, literal) => {
    expect(requiredLiteral(pattern)).toBe(literal);
  });

  it('prefilters on the required literal without changing results', () => {
    const flags = { caseInsensitive: true, multiLine: false, dotAll: false };
    const test = compileSafeRegex('ignore (all )?previous', flags, 1000);
    expect([test('IGNORE ALL PREVIOUS'), test('Ignore previous'), test('ignore  previous'), test('nothing')]).toEqual([true, true, false, false]);
    // Unicode case folding, as RE2 does it: the long s folds to s.
    expect(compileSafeRegex('ſecret', flags, 1000)('SECRET')).toBe(true);
    expect(compileSafeRegex('secret', { ...flags, caseInsensitive: false }, 1000)('SECRET')).toBe(false);
  });

  it('matches a 1 MB adversarial input in linear time', () => {
    // Both patterns take minutes on a backtracking engine with this input; RE2 scans it once.
    const adversarial = `${'a'.repeat(MEBIBYTE - 16)}!`;
    const event = toolResult('fetch', { content: [{ type: 'text', text: adversarial }] });
    for (const pattern of ['a.*b.*c', '(a|aa)*b$', '^(a|a)*$']) {
      expect(engineFor(resultRule(pattern), { maxRegexInput: 2 * MEBIBYTE }).evaluate(event)).toEqual([]);
    }
    expect(engineFor(resultRule('a{1000}!$'), { maxRegexInput: 2 * MEBIBYTE }).evaluate(event)).toHaveLength(1);
  });

  it('shows a regex only the first maxRegexInput characters of a value', () => {
    const event = toolResult('fetch', { content: [{ type: 'text', text: `${'.'.repeat(5000)}SECRET` }] });
    expect(engineFor(resultRule('SECRET')).evaluate(event)).toHaveLength(1);
    expect(engineFor(resultRule('SECRET'), { maxRegexInput: 4096 }).evaluate(event)).toEqual([]);
  });
});
