/**
 * Turns the pack's rule requirements (ruleRequirement.ts) into per-event tests. Every literal run the pack's string
 * items and regexes need is gathered per field and casing into one search (an Aho-Corasick automaton,
 * literalAutomaton.ts, for a field with many), so an event's field is scanned once for all of them, however many
 * rules and values ask, and a rule whose literals are absent is skipped before any of its matchers (or regexes) run.
 */
import type { EventContext } from './eventContext.js';
import type { FieldPath } from './fieldPath.js';
import { LiteralAutomaton } from './literalAutomaton.js';
import type { Requirement } from './ruleRequirement.js';

/** Whether an event can satisfy a requirement. */
export type EventPrecheck = (ctx: EventContext) => boolean;

const always: EventPrecheck = () => true;

/**
 * Up to this many literals a field is searched with the native String.includes, one call per literal: below it that
 * beats the automaton's per-character step in JavaScript on the short values MCP fields hold (measured on the
 * detectors workload's tool-call results); above it one automaton pass wins.
 */
const NATIVE_SEARCH_MAX = 12;

/**
 * One field (in one casing) and every literal the pack needs in it. The scan of an event is kept until the next event
 * asks (evaluation is synchronous, one event at a time), as marks: marks[id] === stamp for each literal found, so
 * neither the scan nor the rules' checks allocate anything.
 */
class FieldScanner {
  private readonly literals: string[] = [];
  private readonly ids = new Map<string, number>();
  private automaton: LiteralAutomaton | undefined;
  private scanned: EventContext | undefined;
  private stamp = 0;
  private found = 0;
  private readonly marks: number[] = [];

  constructor(
    private readonly path: FieldPath,
    private readonly cased: boolean,
  ) {}

  /** Adds the literals (once each); returns their ids. */
  add(literals: readonly string[]): number[] {
    return literals.map((literal) => {
      let id = this.ids.get(literal);
      if (id === undefined) {
        this.automaton = undefined;
        id = this.literals.length;
        this.ids.set(literal, id);
        this.literals.push(literal);
        this.marks.push(0);
      }
      return id;
    });
  }

  /** Whether the event's values of the field (lower-cased unless cased) hold one of the literals `ids`. */
  holdsAny(ctx: EventContext, ids: readonly number[]): boolean {
    if (this.scanned !== ctx) this.scan(ctx);
    if (this.found === 0) return false;
    for (const id of ids) if (this.marks[id] === this.stamp) return true;
    return false;
  }

  private scan(ctx: EventContext): void {
    this.scanned = ctx;
    this.stamp++;
    this.found = 0;
    const values = ctx.strings(this.path, !this.cased);
    if (values.length === 0) return;
    if (this.literals.length <= NATIVE_SEARCH_MAX) {
      // Plain loops: a closure per literal per event cost as much as the searches on short values.
      const literals = this.literals;
      for (let id = 0; id < literals.length; id++) {
        const literal = literals[id] as string;
        for (const value of values) {
          if (value.includes(literal)) {
            this.marks[id] = this.stamp;
            this.found++;
            break;
          }
        }
      }
      return;
    }
    this.automaton ??= new LiteralAutomaton(this.literals);
    for (const value of values) this.found += this.automaton.mark(value, this.marks, this.stamp);
  }
}

type FieldNeed = Requirement & { kind: 'field' };
const needKey = (need: FieldNeed): string => `${need.literals === undefined ? 'present' : need.literals.cased ? 'cased' : 'lower'}:${need.path.name}`;

/**
 * The same requirement with fewer checks per event (every rule's precheck runs on every event of its log source, and
 * each node is a call): nested and/or flattened; under an `or`, the literal needs of one field and casing become one
 * need of any of their literals, and a field's presence makes its literal needs redundant; under an `and`, a field's
 * presence is implied by a literal or value need of that field.
 */
function simplified(requirement: Requirement): Requirement {
  if (requirement.kind !== 'and' && requirement.kind !== 'or') return requirement;
  const kind = requirement.kind;
  const operands: Requirement[] = [];
  for (const operand of requirement.operands.map(simplified)) {
    if (operand.kind === kind) operands.push(...operand.operands);
    else operands.push(operand);
  }
  const fieldNeeds = operands.filter((o): o is FieldNeed => o.kind === 'field');
  const present = new Set(fieldNeeds.filter((o) => o.literals === undefined).map((o) => o.path.name));
  const kept: Requirement[] = [];
  if (kind === 'or') {
    const merged = new Map<string, FieldNeed>();
    for (const operand of operands) {
      if (operand.kind !== 'field' || operand.literals === undefined) {
        if (operand.kind !== 'field' || !merged.has(needKey(operand))) kept.push(operand);
        if (operand.kind === 'field') merged.set(needKey(operand), operand);
        continue;
      }
      if (present.has(operand.path.name)) continue;
      const key = needKey(operand);
      const earlier = merged.get(key);
      if (earlier?.literals === undefined) {
        const need: FieldNeed = { kind: 'field', path: operand.path, literals: { values: [...operand.literals.values], cased: operand.literals.cased } };
        merged.set(key, need);
        kept.push(need);
      } else {
        earlier.literals = { values: [...new Set([...earlier.literals.values, ...operand.literals.values])], cased: earlier.literals.cased };
      }
    }
  } else {
    const read = new Set(operands.filter((o) => (o.kind === 'field' && o.literals !== undefined) || o.kind === 'value').map((o) => (o as FieldNeed).path.name));
    const seen = new Set<string>();
    for (const operand of operands) {
      if (operand.kind === 'field' && operand.literals === undefined) {
        if (read.has(operand.path.name) || seen.has(operand.path.name)) continue;
        seen.add(operand.path.name);
      }
      kept.push(operand);
    }
  }
  return kept.length === 1 ? (kept[0] as Requirement) : { kind, operands: kept };
}

/** The literal scanners of one rule pack, and the prechecks compiled against them. */
export class LiteralPrefilter {
  private readonly scanners = new Map<string, FieldScanner>();

  private scannerOf(path: FieldPath, cased: boolean): FieldScanner {
    const key = `${cased ? 'cased' : 'lower'}:${path.name}`;
    let scanner = this.scanners.get(key);
    if (scanner === undefined) {
      scanner = new FieldScanner(path, cased);
      this.scanners.set(key, scanner);
    }
    return scanner;
  }

  /** The per-event test of a requirement; its literals join their field's scanner. */
  precheck(requirement: Requirement): EventPrecheck {
    return this.compiled(simplified(requirement));
  }

  private compiled(requirement: Requirement): EventPrecheck {
    switch (requirement.kind) {
      case 'none':
        return always;
      case 'field': {
        const { path, literals } = requirement;
        if (literals === undefined) return (ctx) => ctx.raw(path).length > 0;
        const scanner = this.scannerOf(path, literals.cased);
        const ids = scanner.add(literals.values);
        return (ctx) => scanner.holdsAny(ctx, ids);
      }
      case 'value': {
        const { path, test } = requirement;
        return (ctx) => {
          for (const value of ctx.strings(path, false)) if (test(value)) return true;
          return false;
        };
      }
      case 'and': {
        const operands = requirement.operands.map((o) => this.compiled(o));
        return (ctx) => {
          for (const operand of operands) if (!operand(ctx)) return false;
          return true;
        };
      }
      case 'or': {
        const operands = requirement.operands.map((o) => this.compiled(o));
        return (ctx) => {
          for (const operand of operands) if (operand(ctx)) return true;
          return false;
        };
      }
    }
  }
}
