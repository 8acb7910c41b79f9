/**
 * Validates a chain of Sigma value modifiers (`field|contains|all`) and turns it into a plan: the string
 * rewrites to apply in order, and the one kind of comparison the item makes. Anything the engine cannot
 * evaluate exactly is refused with the reason.
 */
import type { RegexFlags } from './safeRegex.js';

export const TIME_PARTS = ['minute', 'hour', 'day', 'week', 'month', 'year'] as const;
export type TimePart = (typeof TIME_PARTS)[number];

export const COMPARISONS = ['lt', 'lte', 'gt', 'gte'] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** String rewrites, in the order written. `wide` is recorded as utf16le. */
export type StringStep = 'windash' | 'base64' | 'base64offset' | 'utf16le' | 'utf16be' | 'utf16' | 'contains' | 'startswith' | 'endswith';

export type MatchKind = 'string' | 're' | 'cidr' | 'exists' | 'compare' | 'time' | 'fieldref';

export interface ModifierPlan {
  kind: MatchKind;
  steps: StringStep[];
  all: boolean;
  cased: boolean;
  neq: boolean;
  expand: boolean;
  regexFlags: RegexFlags;
  comparison?: Comparison;
  timePart?: TimePart;
}

const STEPS: readonly string[] = ['windash', 'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'contains', 'startswith', 'endswith'];
const WRAPS: readonly string[] = ['contains', 'startswith', 'endswith'];
const FLAGS: readonly string[] = ['all', 'cased', 'neq', 'expand'];
const REGEX_FLAGS: readonly string[] = ['i', 'm', 's'];
const TYPES: readonly string[] = ['re', 'cidr', 'exists', 'fieldref', ...COMPARISONS, ...TIME_PARTS];

/** Every modifier the engine knows. */
export const KNOWN_MODIFIERS: readonly string[] = [...STEPS, ...FLAGS, ...TYPES, ...REGEX_FLAGS];

/** Modifiers a field-less (keyword) value may carry; keyword search is a contains over every string. */
const KEYWORD_MODIFIERS: readonly string[] = ['all', 'cased', 'contains', 're', ...REGEX_FLAGS, 'windash', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide'];

/** What each kind of comparison may be combined with. */
const COMPANIONS: Record<MatchKind, readonly string[]> = {
  string: [...STEPS, ...FLAGS],
  re: ['all', 'neq', ...REGEX_FLAGS],
  cidr: ['neq'],
  exists: [],
  compare: [...TIME_PARTS],
  time: [...COMPARISONS],
  fieldref: [...WRAPS, 'cased', 'neq'],
};

function kindOf(modifier: string): MatchKind | undefined {
  if (modifier === 're' || modifier === 'cidr' || modifier === 'exists' || modifier === 'fieldref') return modifier;
  if ((COMPARISONS as readonly string[]).includes(modifier)) return 'compare';
  if ((TIME_PARTS as readonly string[]).includes(modifier)) return 'time';
  return undefined;
}

/** Plans the modifier chain of one detection item; throws a plain Error with the reason when refused. */
export function planModifiers(modifiers: readonly string[], keyword: boolean): ModifierPlan {
  const seen = new Set<string>();
  for (const m of modifiers) {
    if (!KNOWN_MODIFIERS.includes(m)) throw new Error(`unknown modifier '${m}' (known: ${KNOWN_MODIFIERS.join(', ')})`);
    if (seen.has(m)) throw new Error(`modifier '${m}' appears twice`);
    if (keyword && !KEYWORD_MODIFIERS.includes(m)) throw new Error(`modifier '${m}' needs a field; keyword values take only ${KEYWORD_MODIFIERS.join(', ')}`);
    if (REGEX_FLAGS.includes(m) && !seen.has('re')) throw new Error(`'${m}' is a sub-modifier of re and must follow it`);
    if (m === 'utf16le' && seen.has('wide')) throw new Error("'wide' and 'utf16le' are the same modifier");
    seen.add(m);
  }
  // A time part followed by a comparison compares the part, so the time part decides the kind.
  const kinds = [...new Set(modifiers.map(kindOf).filter((k): k is MatchKind => k !== undefined))];
  const kind: MatchKind = kinds.includes('time') ? 'time' : kinds[0] ?? 'string';
  if (kinds.length > 1 && !(kind === 'time' && kinds.length === 2 && kinds.includes('compare'))) {
    throw new Error(`modifiers ${modifiers.filter((m) => kindOf(m) !== undefined).join(' and ')} cannot be combined`);
  }
  const allowed = COMPANIONS[kind];
  for (const m of modifiers) {
    if (kindOf(m) === kind) continue;
    if (!allowed.includes(m)) throw new Error(m === 'cased' && kind === 're' ? "cased has no effect with re (a regex is case-sensitive unless 're|i')" : `modifier '${m}' cannot be used with ${kind === 'string' ? 'string matching' : `'${modifiers.find((x) => kindOf(x) === kind)}'`}`);
  }
  const comparisons = modifiers.filter((m) => (COMPARISONS as readonly string[]).includes(m));
  if (comparisons.length > 1) throw new Error(`only one of ${COMPARISONS.join(', ')} may be used`);
  if (seen.has('all') && seen.has('neq')) throw new Error("'all' cannot be combined with 'neq'");
  const steps = modifiers.filter((m) => STEPS.includes(m)).map((m) => (m === 'wide' ? 'utf16le' : m) as StringStep);
  const offset = steps.indexOf('base64offset');
  if (offset >= 0 && !keyword && !steps.slice(offset + 1).includes('contains')) throw new Error("base64offset must be followed by 'contains'");
  const plan: ModifierPlan = {
    kind,
    steps,
    all: seen.has('all'),
    cased: seen.has('cased'),
    neq: seen.has('neq'),
    expand: seen.has('expand'),
    regexFlags: { caseInsensitive: seen.has('i'), multiLine: seen.has('m'), dotAll: seen.has('s') },
  };
  const comparison = comparisons[0] as Comparison | undefined;
  if (comparison) plan.comparison = comparison;
  const timePart = modifiers.find((m) => (TIME_PARTS as readonly string[]).includes(m)) as TimePart | undefined;
  if (timePart) plan.timePart = timePart;
  return plan;
}
