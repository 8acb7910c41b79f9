/**
 * The pack's prechecks (literalPrefilter.ts) are simplified at load (flattened, literal needs of a field merged, implied
 * presence dropped): each must still answer exactly as its requirement read plainly, on events that hold every mix.
 */
import { describe, expect, it } from 'vitest';
import { EventWork } from '../../detectors/sharedEventWork.js';
import { EventContext } from '../../detectors/sigma/eventContext.js';
import { FieldPath } from '../../detectors/sigma/fieldPath.js';
import { LiteralPrefilter } from '../../detectors/sigma/literalPrefilter.js';
import type { Requirement } from '../../detectors/sigma/ruleRequirement.js';
import { DEFAULT_SCAN_LIMITS } from '../../detectors/sigma/scanLimits.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

const a = new FieldPath('x.a');
const b = new FieldPath('x.b');
const need = (path: FieldPath, values?: string[], cased = false): Requirement => (values === undefined ? { kind: 'field', path } : { kind: 'field', path, literals: { values, cased } });

/** The requirement read plainly, as ruleRequirement.ts defines it. */
function holds(requirement: Requirement, event: Record<string, unknown>): boolean {
  const strings = (path: FieldPath): string[] => path.resolve(event, []).filter((v): v is string => typeof v === 'string');
  switch (requirement.kind) {
    case 'none':
      return true;
    case 'field': {
      const { path, literals } = requirement;
      if (literals === undefined) return path.resolve(event, []).length > 0;
      return strings(path).some((value) => literals.values.some((literal) => (literals.cased ? value : value.toLowerCase()).includes(literal)));
    }
    case 'value':
      return strings(requirement.path).some(requirement.test);
    case 'and':
      return requirement.operands.every((o) => holds(o, event));
    case 'or':
      return requirement.operands.some((o) => holds(o, event));
  }
}

const requirements: Requirement[] = [
  { kind: 'or', operands: [{ kind: 'or', operands: [need(a, ['foo']), need(b, ['foo'])] }, { kind: 'or', operands: [need(a, ['bar']), need(b, ['bar'])] }] },
  { kind: 'or', operands: [need(a, ['foo']), need(a), need(b, ['Bar'], true)] },
  { kind: 'or', operands: [need(a, ['foo']), need(a, ['foo'], true), need(a, ['bar'])] },
  { kind: 'and', operands: [need(a, ['foo']), need(a), { kind: 'and', operands: [need(b), need(b)] }] },
  { kind: 'and', operands: [{ kind: 'value', path: a, test: (v) => v.length > 5 }, need(a), { kind: 'or', operands: [need(b, ['qux']), need(b, ['bar'])] }] },
  { kind: 'and', operands: [need(a, ['foo']), need(a, ['bar'])] },
];
const events: Record<string, unknown>[] = [
  {},
  { x: {} },
  { x: { a: 'foo' } },
  { x: { a: 'FOO bar' } },
  { x: { a: 'nothing here', b: 'Bar' } },
  { x: { a: ['zzz', 'foobar'], b: ['qux'] } },
  { x: { b: 'bar' } },
  { x: { a: 'Foo', b: 'BAR' } },
];

describe('simplified prechecks', () => {
  it('answer as their requirements read plainly, on every event', () => {
    const prefilter = new LiteralPrefilter();
    const prechecks = requirements.map((r) => prefilter.precheck(r));
    let held = 0;
    for (const event of events) {
      const ctx = new EventContext(event as unknown as McpEvent, DEFAULT_SCAN_LIMITS, new EventWork());
      requirements.forEach((requirement, i) => {
        const expected = holds(requirement, event);
        if (expected) held++;
        expect(prechecks[i]?.(ctx), `requirement ${i} on ${JSON.stringify(event)}`).toBe(expected);
      });
    }
    // The events exercise both answers.
    expect(held).toBeGreaterThan(5);
    expect(held).toBeLessThan(requirements.length * events.length - 5);
  });
});
