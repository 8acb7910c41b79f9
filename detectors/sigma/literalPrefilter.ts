/**
 * Turns the pack's rule requirements (ruleRequirement.ts) into per-event tests. Every literal run the pack's string
 * items need is gathered per field and casing into one Aho-Corasick automaton, so an event's field is scanned once
 * for all of them, however many rules and values ask, and a rule whose literals are absent is skipped before any
 * of its matchers (or regexes) run.
 */
import { AhoCorasick } from '@monyone/aho-corasick/fast';
import type { EventContext } from './eventContext.js';
import type { FieldPath } from './fieldPath.js';
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

/** One field (in one casing) and the automaton over every literal the pack needs in it. */
class FieldScanner {
  private readonly literals = new Set<string>();
  private automaton: AhoCorasick | undefined;

  constructor(
    private readonly path: FieldPath,
    private readonly cased: boolean,
  ) {}

  add(literals: readonly string[]): void {
    for (const literal of literals) this.literals.add(literal);
    this.automaton = undefined;
  }

  /** The pack's literals found in the event's values of the field (lower-cased unless cased), scanned once per event. */
  found(ctx: EventContext): ReadonlySet<string> {
    return ctx.memo(this, () => {
      const found = new Set<string>();
      const values = ctx.strings(this.path, !this.cased);
      if (values.length === 0) return found;
      if (this.literals.size <= NATIVE_SEARCH_MAX) {
        for (const literal of this.literals) if (values.some((value) => value.includes(literal))) found.add(literal);
        return found;
      }
      this.automaton ??= new AhoCorasick([...this.literals]);
      for (const value of values) for (const match of this.automaton.matchInText(value)) found.add(match.keyword);
      return found;
    });
  }
}

/** The literal scanners of one rule pack, and the prechecks compiled against them. */
export class LiteralPrefilter {
  private readonly scanners = new Map<string, FieldScanner>();

  /** Gathers the literals of every requirement; the automata are built on first use. */
  constructor(requirements: readonly Requirement[]) {
    for (const requirement of requirements) this.gather(requirement);
  }

  private scannerOf(path: FieldPath, cased: boolean): FieldScanner {
    const key = `${cased ? 'cased' : 'lower'}:${path.name}`;
    let scanner = this.scanners.get(key);
    if (scanner === undefined) {
      scanner = new FieldScanner(path, cased);
      this.scanners.set(key, scanner);
    }
    return scanner;
  }

  private gather(requirement: Requirement): void {
    if (requirement.kind === 'and' || requirement.kind === 'or') for (const operand of requirement.operands) this.gather(operand);
    else if (requirement.kind === 'field' && requirement.literals) this.scannerOf(requirement.path, requirement.literals.cased).add(requirement.literals.values);
  }

  /** The per-event test of a requirement gathered by the constructor. */
  precheck(requirement: Requirement): EventPrecheck {
    switch (requirement.kind) {
      case 'none':
        return always;
      case 'field': {
        const { path, literals } = requirement;
        if (literals === undefined) return (ctx) => ctx.raw(path).length > 0;
        const scanner = this.scannerOf(path, literals.cased);
        const wanted = literals.values;
        return (ctx) => {
          const found = scanner.found(ctx);
          if (found.size === 0) return false;
          for (const literal of wanted) if (found.has(literal)) return true;
          return false;
        };
      }
      case 'and': {
        const operands = requirement.operands.map((o) => this.precheck(o));
        return (ctx) => {
          for (const operand of operands) if (!operand(ctx)) return false;
          return true;
        };
      }
      case 'or': {
        const operands = requirement.operands.map((o) => this.precheck(o));
        return (ctx) => {
          for (const operand of operands) if (operand(ctx)) return true;
          return false;
        };
      }
    }
  }
}
