/**
 * Compiles one detection item (`field|modifiers: values`, or a keyword list) into a matcher over an
 * EventContext. Values are turned into plain string tests, numeric comparisons, CIDR sets or safe regexes at
 * compile time; nothing is built per event.
 */
import { BoundedMemo } from '../boundedMemo.js';
import { compileCidr } from './cidrMatcher.js';
import type { EventContext } from './eventContext.js';
import { FieldPath } from './fieldPath.js';
import { planModifiers, type ModifierPlan, type StringStep } from './modifierPlan.js';
import { SigmaRuleError } from './ruleError.js';
import type { DetectionItem } from './ruleModel.js';
import { NO_REQUIREMENT, regexRequirement, stringRequirement, type Requirement } from './ruleRequirement.js';
import { compileSafeRegex } from './safeRegex.js';
import type { Leaf } from './scanLimits.js';
import { parseSigmaString, sigmaStringOf, withAnyRun, type PlaceholderValues, type SigmaString } from './sigmaString.js';
import { timePartOf } from './timePart.js';
import { base64Encode, base64OffsetVariants, utf16Encode, windashVariants } from './valueEncodings.js';
import { compileWildcard, type CompiledString, type StringTest } from './wildcardMatcher.js';

/** A compiled detection item. */
export interface ItemMatcher {
  /** The field it looks at ('keyword' for keyword search). */
  readonly field: string;
  test(ctx: EventContext): boolean;
  /** The first value that made the item true, for alert.matched (undefined when no value did, e.g. a missing field). */
  witness(ctx: EventContext): string | undefined;
  /** What an event must hold for the item to be true (ruleRequirement.ts). */
  readonly requirement: Requirement;
}

/** A matcher before its requirement is attached. */
type Matcher = Omit<ItemMatcher, 'requirement'>;

export interface ItemCompileOptions {
  file: string;
  placeholders: PlaceholderValues;
  maxRegexInput: number;
}

type ValueTest<T> = (value: T, ctx: EventContext) => boolean;

interface ValueTests<T> {
  /** One test per rule value (each may hold several alternatives), for `all`. */
  groups: ValueTest<T>[];
  /** Any rule value. */
  any: ValueTest<T>;
}

const describe = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? String(value));

function anyOf<T>(groups: ValueTest<T>[]): ValueTest<T> {
  if (groups.length === 1) return groups[0] as ValueTest<T>;
  return (value, ctx) => {
    for (const group of groups) if (group(value, ctx)) return true;
    return false;
  };
}

/**
 * Values up to this long have their verdict remembered: the fields whose values repeat across the fleet (server and
 * tool names, methods, URIs, short descriptions). Longer ones are tested each time.
 */
const REMEMBERED_VALUE_CHARS = 256;
/**
 * Values one item remembers per generation (BoundedMemo keeps two): per item at most 2 × 2,048 verdicts on values of
 * at most 256 characters, and the strings are shared by the items of one field, so a pack reading ~30 string fields
 * holds at most ~30 × 4,096 × 512 B ≈ 63 MiB of them in the worst case, and far less on real traffic.
 */
const REMEMBERED_VALUES = 2048;

/** `test` with its verdicts on short values remembered across events. */
function rememberedVerdicts(test: StringTest): StringTest {
  const verdicts = new BoundedMemo<boolean>(REMEMBERED_VALUES);
  return (value) => (value.length > REMEMBERED_VALUE_CHARS ? test(value) : verdicts.get(value, test));
}

/** One string test for alternatives: equality needles go to a Set, the rest are tried in turn. */
function combineStrings(alternatives: readonly CompiledString[]): StringTest {
  const exact = new Set<string>();
  const others: StringTest[] = [];
  for (const a of alternatives) {
    if (a.exact !== undefined) exact.add(a.exact);
    else others.push(a.test);
  }
  if (others.length === 0) return (h) => exact.has(h);
  if (exact.size === 0 && others.length === 1) return others[0] as StringTest;
  return (h) => {
    if (exact.has(h)) return true;
    for (const t of others) if (t(h)) return true;
    return false;
  };
}

/** Applies one string modifier (encoding or contains/startswith/endswith wrap) to a value; some yield several. */
export function applyStep(step: StringStep, value: SigmaString): SigmaString[] {
  switch (step) {
    case 'windash':
      return windashVariants(value);
    case 'base64':
      return [base64Encode(value)];
    case 'base64offset':
      return base64OffsetVariants(value);
    case 'utf16le':
    case 'utf16be':
    case 'utf16':
      return [utf16Encode(value, step)];
    case 'contains':
      return [withAnyRun(value, true, true)];
    case 'startswith':
      return [withAnyRun(value, false, true)];
    case 'endswith':
      return [withAnyRun(value, true, false)];
  }
}

class ItemCompiler {
  private readonly keyword: boolean;
  private readonly label: string;
  private readonly path: FieldPath | undefined;
  private readonly plan: ModifierPlan;
  /** The compiled values of a string item (set by stringMatcher), for its literal requirement. */
  private stringValues: SigmaString[] | undefined;
  /** Whether the item is true for an event without its field (a null value). */
  private matchesMissing = false;

  constructor(
    private readonly item: DetectionItem,
    private readonly options: ItemCompileOptions,
  ) {
    this.keyword = item.field === undefined;
    this.label = this.keyword ? 'keyword value' : `field '${item.field}'`;
    this.plan = this.attempt(item.line, () => planModifiers(item.modifiers, this.keyword));
    this.path = item.field === undefined ? undefined : this.attempt(item.line, () => new FieldPath(item.field as string));
    if (this.plan.all && (!item.listed || item.values.length < 2)) this.fail(item.line, "'all' needs a list of at least two values");
  }

  private fail(line: number, message: string): never {
    throw new SigmaRuleError(this.options.file, line, `${this.label}: ${message}`);
  }

  private attempt<T>(line: number, make: () => T): T {
    try {
      return make();
    } catch (error) {
      if (error instanceof SigmaRuleError) throw error;
      return this.fail(line, (error as Error).message);
    }
  }

  /** The matcher for the item's kind of comparison, with what it requires of an event. */
  compile(): ItemMatcher {
    const matcher = this.matcher();
    return { ...matcher, requirement: this.requirement() };
  }

  private requirement(): Requirement {
    const path = this.path;
    if (path === undefined || this.matchesMissing) return NO_REQUIREMENT;
    if (this.plan.kind === 'exists') return this.item.values[0]?.value === true ? { kind: 'field', path } : NO_REQUIREMENT;
    if (this.plan.neq) return { kind: 'field', path };
    if (this.plan.kind === 're') return regexRequirement(path, this.item.values.map(({ value }) => value as string), this.plan.regexFlags, this.options.maxRegexInput);
    if (this.stringValues === undefined) return { kind: 'field', path };
    return stringRequirement(path, this.stringValues, this.cased);
  }

  /** base64 text is case-sensitive by nature: folding it would match other bytes. */
  private get cased(): boolean {
    return this.plan.cased || this.plan.steps.includes('base64') || this.plan.steps.includes('base64offset');
  }

  private matcher(): Matcher {
    switch (this.plan.kind) {
      case 'exists':
        return this.existsMatcher();
      case 'string':
        return this.stringMatcher();
      case 're':
        return this.textMatcher(false, this.perValue('a regular expression', (v) => compileSafeRegex(v, this.plan.regexFlags, this.options.maxRegexInput)), true);
      case 'cidr':
        return this.textMatcher(false, this.perValue('a CIDR network', (v) => compileCidr([v])));
      case 'compare':
      case 'time':
        return this.numberMatcher();
      case 'fieldref':
        return this.fieldRefMatcher();
    }
  }

  private get fieldPath(): FieldPath {
    return this.path as FieldPath;
  }

  private existsMatcher(): Matcher {
    const [first, ...rest] = this.item.values;
    if (!first || rest.length > 0 || typeof first.value !== 'boolean') this.fail(this.item.line, "'exists' takes exactly one value, true or false");
    const expected = first.value;
    const path = this.fieldPath;
    return {
      field: path.name,
      test: (ctx) => ctx.raw(path).length > 0 === expected,
      witness: (ctx) => (expected ? describe(ctx.raw(path)[0]) : undefined),
    };
  }

  private perValue(what: string, compile: (value: string) => StringTest): StringTest[] {
    return this.item.values.map(({ value, line }) => {
      if (typeof value !== 'string') this.fail(line, `'${String(value)}' must be a string holding ${what}`);
      return this.attempt(line, () => compile(value));
    });
  }

  private stringMatcher(): Matcher {
    const plan = this.plan;
    const cased = this.cased;
    let matchesNull = false;
    const groups: CompiledString[][] = [];
    const compiled: SigmaString[] = [];
    for (const { value, line } of this.item.values) {
      if (value === null) {
        if (this.keyword || this.item.modifiers.length > 0) this.fail(line, "null matches a missing or null field and takes no modifiers (use 'exists')");
        matchesNull = true;
        continue;
      }
      const strings = this.attempt(line, () => {
        let current = typeof value === 'string' ? parseSigmaString(value, plan.expand ? this.options.placeholders : undefined) : [sigmaStringOf([String(value)])];
        for (const step of plan.steps) current = current.flatMap((s) => applyStep(step, s));
        return this.keyword ? current.map((s) => withAnyRun(s, true, true)) : current;
      });
      groups.push(strings.map((s) => compileWildcard(s, cased)));
      compiled.push(...strings);
    }
    if (matchesNull && plan.all) this.fail(this.item.line, "'all' cannot include null");
    this.stringValues = compiled;
    this.matchesMissing = matchesNull;
    const tests = groups.map((g) => combineStrings(g));
    const matcher = this.textMatcher(!cased, tests, false, combineStrings(groups.flat()));
    if (!matchesNull) return matcher;
    const path = this.fieldPath;
    const isNullish = (ctx: EventContext): boolean => {
      const raw = ctx.raw(path);
      return raw.length === 0 || raw.includes(null);
    };
    return {
      field: matcher.field,
      test: (ctx) => matcher.test(ctx) || isNullish(ctx),
      witness: (ctx) => matcher.witness(ctx) ?? (isNullish(ctx) ? 'null' : undefined),
    };
  }

  /**
   * Matches string forms of the field (or every string of the event, for keywords). With `remember` (regexes: a pure
   * function of the string, and dear to run in re2js), the verdict on a short value is remembered across events;
   * string tests (a Set lookup, includes) cost less than the lookup would.
   */
  private textMatcher(lower: boolean, groups: StringTest[], remember = false, any: StringTest = (value) => groups.some((test) => test(value))): Matcher {
    const path = this.path;
    const values = path ? (ctx: EventContext) => ctx.strings(path, lower) : (ctx: EventContext) => ctx.keywords(lower);
    const originals = path ? (ctx: EventContext) => ctx.strings(path, false) : (ctx: EventContext) => ctx.keywords(false);
    return this.build(path?.name ?? 'keyword', values, { groups, any: remember ? rememberedVerdicts(any) : any }, (ctx, index) => originals(ctx)[index]);
  }

  private numberMatcher(): Matcher {
    const { comparison, timePart } = this.plan;
    const groups: ValueTest<number>[] = this.item.values.map(({ value, line }) => {
      if (typeof value !== 'number') this.fail(line, `'${String(value)}' must be a number for '${comparison ?? timePart}'`);
      switch (comparison) {
        case 'lt':
          return (x) => x < value;
        case 'lte':
          return (x) => x <= value;
        case 'gt':
          return (x) => x > value;
        case 'gte':
          return (x) => x >= value;
        default:
          return (x) => x === value;
      }
    });
    const path = this.fieldPath;
    const toNumber = (leaf: Leaf): number | undefined => {
      if (timePart) return timePartOf(leaf, timePart);
      if (typeof leaf === 'number') return leaf;
      if (typeof leaf !== 'string' || leaf.trim() === '') return undefined;
      const n = Number(leaf);
      return Number.isFinite(n) ? n : undefined;
    };
    const numbers = (ctx: EventContext): number[] => {
      const out: number[] = [];
      for (const leaf of ctx.leaves(path)) {
        const n = toNumber(leaf);
        if (n !== undefined) out.push(n);
      }
      return out;
    };
    return this.build(path.name, numbers, { groups, any: anyOf(groups) }, (ctx, index) => String(numbers(ctx)[index]));
  }

  private fieldRefMatcher(): Matcher {
    const wraps = this.plan.steps;
    if (wraps.length > 1) this.fail(this.item.line, "'fieldref' takes at most one of contains, startswith, endswith");
    const relation: (value: string, other: string) => boolean =
      wraps[0] === 'contains' ? (v, o) => v.includes(o) : wraps[0] === 'startswith' ? (v, o) => v.startsWith(o) : wraps[0] === 'endswith' ? (v, o) => v.endsWith(o) : (v, o) => v === o;
    const lower = !this.plan.cased;
    const groups: ValueTest<string>[] = this.item.values.map(({ value, line }) => {
      if (typeof value !== 'string' || value.includes('*')) this.fail(line, `'fieldref' needs a field name, not '${String(value)}'`);
      const other = this.attempt(line, () => new FieldPath(value));
      return (v, ctx) => ctx.strings(other, lower).some((o) => relation(v, o));
    });
    const path = this.fieldPath;
    return this.build(path.name, (ctx) => ctx.strings(path, lower), { groups, any: anyOf(groups) }, (ctx, index) => ctx.strings(path, false)[index]);
  }

  /** Assembles the item from its values accessor and tests, honouring all / neq. */
  private build<T>(field: string, values: (ctx: EventContext) => readonly T[], tests: ValueTests<T>, original: (ctx: EventContext, index: number) => string | undefined): Matcher {
    const { groups, any } = tests;
    const firstMatch = (ctx: EventContext): number => {
      const vs = values(ctx);
      for (let i = 0; i < vs.length; i++) if (any(vs[i] as T, ctx)) return i;
      return -1;
    };
    if (this.plan.neq) {
      return { field, test: (ctx) => values(ctx).length > 0 && firstMatch(ctx) < 0, witness: (ctx) => original(ctx, 0) };
    }
    const witness = (ctx: EventContext): string | undefined => {
      const index = firstMatch(ctx);
      return index < 0 ? undefined : original(ctx, index);
    };
    if (this.plan.all) {
      return {
        field,
        test: (ctx) => {
          const vs = values(ctx);
          return groups.every((group) => vs.some((v) => group(v, ctx)));
        },
        witness,
      };
    }
    return { field, test: (ctx) => firstMatch(ctx) >= 0, witness };
  }
}

/** Compiles one detection item; throws SigmaRuleError (FILE:LINE) when it uses anything unsupported. */
export function compileDetectionItem(item: DetectionItem, options: ItemCompileOptions): ItemMatcher {
  return new ItemCompiler(item, options).compile();
}
