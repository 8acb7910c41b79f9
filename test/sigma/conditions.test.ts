/** The condition language: and/or/not, parentheses, x-of forms, precedence, and condition lists. */
import { describe, expect, it } from 'vitest';
import { toolCall } from './mcpEvents.js';
import { detects } from './ruleHarness.js';

const event = toolCall('read_file', { path: '/etc/passwd' });

const IDENTIFIERS: Record<string, string> = {
  t1: 'gen_ai.tool.name: read_file',
  t2: "gen_ai.tool.call.arguments.path: '/etc/passwd'",
  f1: 'gen_ai.tool.name: nope',
  f2: 'gen_ai.tool.name: nada',
  _t: 'gen_ai.tool.name: read_file',
  _f: 'gen_ai.tool.name: nope',
};

/** Evaluates `condition` over the named identifiers (t* are true on the event, f* false). */
function evaluate(condition: string | string[], names: string[] = ['t1', 't2', 'f1', 'f2']): boolean {
  const identifiers = names.map((n) => `${n}:\n    ${IDENTIFIERS[n] ?? ''}`).join('\n');
  const conditionYaml = Array.isArray(condition) ? `condition:\n${condition.map((c) => `    - '${c}'`).join('\n')}` : `condition: '${condition}'`;
  return detects({ category: 'tool_call', detection: `${identifiers}\n${conditionYaml}` }, event);
}

describe('conditions', () => {
  it.each([
    ['t1', true],
    ['t1 and t2', true],
    ['t1 and f1', false],
    ['f1 or t1', true],
    ['f1 or f2', false],
    ['not f1', true],
    ['not t1', false],
    ['not not t1', true],
    ['t1 AND NOT f1', true],
    // and binds tighter than or
    ['t1 or t1 and f1', true],
    ['f1 and f2 or t1', true],
    ['t1 or f1 and f2', true],
    // not binds tighter than and/or
    ['not t1 and f1', false],
    ['not f1 and t1', true],
    ['not t1 or t2', true],
    // x of binds tighter than not
    ['not 1 of f*', true],
    ['not all of t*', false],
    ['1 of f* or t1', true],
    ['all of t* and f1', false],
    // parentheses bind tightest
    ['not (t1 and f1)', true],
    ['(f1 or t1) and f2', false],
    ['f1 or (t1 and t2)', true],
    ['((t1))', true],
    ['not (f1 or f2) and (t1 or f1)', true],
  ])('%s → %s', (condition, expected) => {
    expect(evaluate(condition)).toBe(expected);
  });

  it('1 of / all of patterns', () => {
    expect(evaluate('1 of t*')).toBe(true);
    expect(evaluate('all of t*')).toBe(true);
    expect(evaluate('1 of f*')).toBe(false);
    expect(evaluate('all of f*')).toBe(false);
    expect(evaluate('1 of *1')).toBe(true);
    expect(evaluate('all of *1')).toBe(false);
    expect(evaluate('1 of t1')).toBe(true);
  });

  it('them covers identifiers not starting with _', () => {
    expect(evaluate('1 of them')).toBe(true);
    expect(evaluate('all of them')).toBe(false);
    expect(evaluate('all of them', ['t1', 't2', '_f'])).toBe(true);
    expect(evaluate('1 of them', ['f1', '_t'])).toBe(false);
    expect(evaluate('1 of _*', ['f1', '_t'])).toBe(true);
  });

  it('a list of conditions means OR', () => {
    expect(evaluate(['f1', 't1'])).toBe(true);
    expect(evaluate(['f1', 'f2'])).toBe(false);
    expect(evaluate(['f1 and t1', 'not t2'])).toBe(false);
  });
});
