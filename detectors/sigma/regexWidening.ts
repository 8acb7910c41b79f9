/**
 * The widened tier of the Kibana export (`tapwire rules export --allow-widened`). A pattern refused only for the size
 * of the automaton Lucene would build (AutomatonTooLargeError: a bounded gap after an unanchored start, an anchored
 * prefix of up to 512 characters) is exported with some of its bounded repetitions of one character class made
 * unbounded, `G{m,n}` → `G{m,}`: `[^\n.!?]{0,60}` → `[^\n.!?]*`, `^[^\n]{0,300}` → `^[^\n]*`. The automaton then
 * no longer counts the gap, and is small.
 *
 * Why the widened pattern finds a match in every text the original finds one in: a pattern's matches in a text are
 * the spans (start, end) it accepts there. Concatenation, alternation and repetition build a node's spans from its
 * operands' spans, and only ever keep more when an operand has more; an assertion (^ $ \b \B) is a condition on the
 * text around one position, whatever spans surround it. So replacing one operand by one that accepts more spans never
 * removes a span of the whole. `G{m,n}` accepts the spans of m to n characters of G, `G{m,}` those of at least m: more.
 * Nothing else is rewritten (no literal, word list, class, assertion or flag changes, and the class of the repeat
 * stays the class), so every text the rule's pattern matches, the widened one matches too. The export of the widened
 * pattern is exact (luceneRegex.ts), so the Lucene query is that superset. It is NOT the rule: it also matches
 * texts in which such a gap is longer than its bound, which the rule's tests and rules/EXPORT.md measure.
 *
 * How much is widened: the largest bounds first, one size at a time (every class repeat with that upper bound or a
 * larger one), down to the first size at which the widened pattern exports within the exporter's state bound and
 * MAX_WIDENED_WORK; nothing when even widening every bounded class repeat does not get there.
 */
import { AutomatonTooLargeError, luceneRegexesOfRe2 } from './luceneRegex.js';
import { parseRe2, type RegexNode, type RepeatSpan } from './re2Syntax.js';
import type { RegexFlags } from './safeRegex.js';

/** One bounded repeat as the pattern spells it (`[^\n]{0,300}`), and as the widened pattern does (`[^\n]*`). */
export interface WidenedRepeat {
  bound: string;
  widened: string;
}

/** A pattern widened until Lucene can run it: the widened RE2 pattern, its exact Lucene form, what was widened. */
export interface WidenedRegexes {
  pattern: string;
  expressions: string[];
  repeats: WidenedRepeat[];
}

/**
 * Most determinization work (luceneRegex.ts) a widened pattern's expressions may cost in all. Each widened expression
 * is within the exporter's state bound, but Lucene's own limit counts work, and a pattern of many expressions with
 * two unbounded gaps between word lists exceeds it where the count of states does not see it: query_string then
 * silently matches nothing for that clause. Calibrated on Elasticsearch 9.4.3 (rules/EXPORT.md): the one widened
 * pattern whose clauses the cluster emptied cost 720,766; the costliest that ran whole, 159,847.
 */
const MAX_WIDENED_WORK = 200_000;

interface ClassRepeat {
  min: number;
  max: number;
  span: RepeatSpan;
}

/** The repeats of one character class with a range of counts (`G{m,n}`, m < n finite), as the pattern spells them. */
function boundedClassRepeats(node: RegexNode, out: ClassRepeat[] = []): ClassRepeat[] {
  if (node.t === 'cat' || node.t === 'alt') for (const item of node.items) boundedClassRepeats(item, out);
  if (node.t !== 'rep') return out;
  // `G{n}` is left alone: `G{n,}` finds a match exactly where it does, and the automaton still counts to n.
  if (node.item.t === 'set' && node.span && node.min < node.max && node.max !== Infinity) out.push({ min: node.min, max: node.max, span: node.span });
  return boundedClassRepeats(node.item, out);
}

const unbounded = (min: number): string => (min === 0 ? '*' : min === 1 ? '+' : `{${min},}`);

/** The pattern with each of `repeats`' quantifiers replaced by its unbounded form. */
function widenedPattern(pattern: string, repeats: readonly ClassRepeat[]): string {
  let out = pattern;
  for (const { min, span } of [...repeats].sort((a, b) => b.span.quantifier - a.span.quantifier)) out = out.slice(0, span.quantifier) + unbounded(min) + out.slice(span.end);
  return out;
}

/**
 * The pattern with its largest bounded class repeats widened, as few sizes as make its Lucene form fit the
 * exporter's bounds; undefined when no widening does. Throws what luceneRegexesOfRe2 throws for anything but size.
 */
export function widenedLuceneRegexes(pattern: string, flags: RegexFlags): WidenedRegexes | undefined {
  const repeats = boundedClassRepeats(parseRe2(pattern, flags));
  const sizes = [...new Set(repeats.map((r) => r.max))].sort((a, b) => b - a);
  for (const size of sizes) {
    const chosen = repeats.filter((r) => r.max >= size);
    const widened = widenedPattern(pattern, chosen);
    try {
      const expressions = luceneRegexesOfRe2(widened, flags, MAX_WIDENED_WORK);
      const spelled = chosen
        .sort((a, b) => a.span.start - b.span.start)
        .map(({ min, span }) => ({ bound: pattern.slice(span.start, span.end), widened: pattern.slice(span.start, span.quantifier) + unbounded(min) }));
      return { pattern: widened, expressions, repeats: spelled };
    } catch (error) {
      if (!(error instanceof AutomatonTooLargeError)) throw error;
    }
  }
  return undefined;
}
