/**
 * Writes a detection query tree in Lucene query syntax (Elasticsearch's query_string, Kibana's `lucene` rule
 * language). It is the export's language because it is the one every Elasticsearch distribution runs (the
 * integ-test-zip served here has no EQL, ES|QL or wildcard field type) and because its regular expressions
 * let it say what Sigma says exactly:
 *
 * - values that need case folding, wildcards or a regex are `field:/…/` regular expressions (luceneRegex.ts),
 *   case-folded by explicit classes since query_string has no case-insensitive flag; plain cased values are
 *   quoted terms;
 * - a regex on a flattened field runs on its root (every value beneath it, as the engine reads an object);
 *   Elasticsearch runs only term, prefix and exists queries on a flattened sub-field (`mcp.params.mode`), so a
 *   case-insensitive value there is written as every case variant of it, and anything else is refused, except
 *   on the params keys the store indexes again as text of their own (mcp.param_text, esMappings.ts), which
 *   take the key's place in every string comparison;
 * - `not x` is `(*:* AND NOT x)`, because a parenthesised clause of only negations matches nothing in Lucene.
 * Each regular expression must fit the index's max_regex_length (Tapwire's template raises it to
 * INDEX_MAX_REGEX_LENGTH).
 */
import { INDEX_MAX_REGEX_LENGTH, indexedParamTextField } from '../../pipeline/elasticsearch/esMappings.js';
import { sameLowerCase } from './codePointSet.js';
import { describeSigmaValue, UntranslatableRuleError, type QueryNode } from './detectionQuery.js';
import { isFlattenedSubField } from './elasticFieldTypes.js';
import { AutomatonTooLargeError, luceneRegexesOfRe2, luceneRegexOfSigmaString, UnsupportedRegexError } from './luceneRegex.js';
import { QueryWriter, type LeafNode, type StringNode, type WrittenComparison } from './queryWriter.js';
import { widenedLuceneRegexes, type WidenedRegexes, type WidenedRepeat } from './regexWidening.js';
import type { RegexFlags } from './safeRegex.js';
import { ANY_RUN } from './sigmaString.js';

/** Most case variants a value of a flattened sub-field is written as. */
const MAX_CASE_VARIANTS = 1024;

/** Text in query_string syntax outside quotes (a field name, a prefix): reserved characters and white space escaped. */
export function luceneField(name: string): string {
  return name.replace(/[+\-=&|><!(){}[\]^"~*?:\\/\s]/g, '\\$&');
}

/** A quoted query_string term. */
export function luceneQuoted(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

/** Every spelling of `text` a case-insensitive comparison accepts, when there are few enough. */
function caseVariants(text: string): string[] | undefined {
  let variants = [''];
  for (const ch of text) {
    const options = sameLowerCase(ch.codePointAt(0) as number).members().map((cp) => String.fromCodePoint(cp));
    if (variants.length * options.length > MAX_CASE_VARIANTS) return undefined;
    variants = variants.flatMap((v) => options.map((o) => v + o));
  }
  return variants;
}

/** A rule regex the query searches in widened form (regexWidening.ts): a superset of its matches, not the same. */
export interface RegexWidening {
  field: string;
  line: number;
  /** The rule's RE2 pattern, and the widened one the query says exactly. */
  pattern: string;
  widenedPattern: string;
  repeats: WidenedRepeat[];
}

export interface LuceneQueryOptions {
  /** Widen the regexes refused only for their automata's size instead of refusing the rule (default: refuse). */
  allowWidened?: boolean;
}

/** A query, and the regexes it widened (empty: it matches exactly what the rule matches). */
export interface LuceneQuery {
  query: string;
  widenings: RegexWidening[];
}

/** A pattern's Lucene expressions, and how it was widened when it was. */
interface Searched {
  expressions: string[];
  widened?: WidenedRegexes;
}

class LuceneWriter extends QueryWriter<{ key: string }> {
  protected override readonly operators = { and: 'AND', or: 'OR' };
  readonly widenings: RegexWidening[] = [];
  /** Each pattern's expressions (or why there are none) by flags and pattern: an object field repeats it on each of its fields. */
  private readonly searched = new Map<string, Searched | UnsupportedRegexError>();

  constructor(private readonly options: LuceneQueryOptions) {
    super();
  }

  protected override negation(operand: string): string {
    return `(*:* AND NOT ${operand})`;
  }

  protected field(node: LeafNode | StringNode): string {
    return luceneField(node.field.name);
  }

  protected leaf(node: Exclude<LeafNode, { kind: 'range' }>): string {
    return node.kind === 'exists' ? `_exists_:${this.field(node)}` : `${this.field(node)}:${luceneQuoted(node.network)}`;
  }

  protected override range(node: Extract<LeafNode, { kind: 'range' }>): string {
    const operator = { lt: '<', lte: '<=', gt: '>', gte: '>=' }[node.comparison];
    return `${this.field(node)}:${operator}${node.value}`;
  }

  protected comparison(node: StringNode): WrittenComparison<{ key: string }> {
    const indexed = indexedParamTextField(node.field.name);
    const target: StringNode = indexed ? { ...node, field: { name: indexed, type: 'wildcard' } } : node;
    return { left: { key: this.field(target) }, value: target.kind === 'regex' ? this.regex(target) : this.string(target) };
  }

  protected single(left: { key: string }, value: string): string {
    return `${left.key}:${value}`;
  }

  protected list(left: { key: string }, values: string[]): string {
    return `${left.key}:(${values.join(' OR ')})`;
  }

  private regexes(expressions: string[], line?: number): string {
    const tooLong = expressions.find((e) => e.length > INDEX_MAX_REGEX_LENGTH);
    if (tooLong) throw new UntranslatableRuleError(`a Lucene regular expression of ${tooLong.length} characters exceeds index.max_regex_length (${INDEX_MAX_REGEX_LENGTH})`, line);
    const written = expressions.map((e) => `/${e}/`);
    return written.length === 1 ? (written[0] as string) : `(${written.join(' OR ')})`;
  }

  private regex(node: Extract<StringNode, { kind: 'regex' }>): string {
    const { field, pattern, line } = node;
    try {
      this.textField(field.name, field.type, `'${pattern}' needs a regular expression`);
      return this.regexes(this.searchExpressions(node), line);
    } catch (error) {
      if (error instanceof UntranslatableRuleError && error.line === undefined) throw new UntranslatableRuleError(error.reason, line);
      if (!(error instanceof UnsupportedRegexError)) throw error;
      throw new UntranslatableRuleError(`'${field.name}|re' '${pattern}': ${error.message}`, line);
    }
  }

  /** The pattern's exact Lucene expressions; else, when allowed and only its size stands in the way, its widened ones. */
  private searchExpressions({ field, pattern, flags, line }: Extract<StringNode, { kind: 'regex' }>): string[] {
    const key = `${flags.caseInsensitive} ${flags.multiLine} ${flags.dotAll} ${pattern}`;
    let searched = this.searched.get(key);
    if (searched === undefined) {
      searched = this.search(pattern, flags);
      this.searched.set(key, searched);
    }
    if (searched instanceof Error) throw searched;
    if (searched.widened) this.widenings.push({ field: field.name, line, pattern, widenedPattern: searched.widened.pattern, repeats: searched.widened.repeats });
    return searched.expressions;
  }

  private search(pattern: string, flags: RegexFlags): Searched | UnsupportedRegexError {
    try {
      return { expressions: luceneRegexesOfRe2(pattern, flags) };
    } catch (error) {
      if (!(error instanceof UnsupportedRegexError)) throw error;
      if (!(error instanceof AutomatonTooLargeError) || this.options.allowWidened !== true) return error;
      const widened = widenedLuceneRegexes(pattern, flags);
      if (widened === undefined) return new AutomatonTooLargeError(`${error.message}; nor does widening its bounded repeats of a character class`);
      return { expressions: widened.expressions, widened };
    }
  }

  /** Refuses regular expressions where Elasticsearch cannot run them. */
  private textField(name: string, type: string, what: string): void {
    if (type !== 'keyword' && type !== 'wildcard' && type !== 'flattened') throw new UntranslatableRuleError(`'${name}' is ${type} in Elasticsearch; ${what}`);
    if (isFlattenedSubField(name)) throw new UntranslatableRuleError(`'${name}' is a flattened sub-field, where Elasticsearch runs only term, prefix and exists queries; ${what}`);
  }

  private string(node: Extract<StringNode, { kind: 'string' }>): string {
    const { field, value, cased } = node;
    const scalar = this.scalarLiteral(node);
    if (scalar !== undefined) return scalar;
    const text = describeSigmaValue(value);
    const literal = value.parts.every((p) => typeof p === 'string') ? value.parts.join('') : undefined;
    const folds = !cased && literal !== undefined && (caseVariants(literal)?.length ?? 2) > 1;
    if (literal !== undefined && !folds) return luceneQuoted(literal);
    if (field.type === 'ip' || field.type === 'date') throw new UntranslatableRuleError(`'${field.name}' is a ${field.type} field; '${text}' needs a pattern match`);
    if (isFlattenedSubField(field.name)) {
      if (literal !== undefined) {
        const variants = caseVariants(literal);
        if (variants) return `(${variants.map(luceneQuoted).join(' OR ')})`;
      }
      const prefix = value.parts.length === 2 && typeof value.parts[0] === 'string' && value.parts[1] === ANY_RUN ? value.parts[0] : undefined;
      if (prefix !== undefined && (cased || caseVariants(prefix)?.length === 1)) return `${luceneField(prefix)}*`;
    }
    this.textField(field.name, field.type, `'${text}' needs a pattern match`);
    return this.regexes([luceneRegexOfSigmaString(value, cased)]);
  }
}

/**
 * The query in Lucene syntax; throws UntranslatableRuleError for what it cannot say exactly (or, with allowWidened,
 * as a superset whose widenings the result lists).
 */
export function toLucene(node: QueryNode, options: LuceneQueryOptions = {}): LuceneQuery {
  const writer = new LuceneWriter(options);
  const query = writer.write(node);
  return { query, widenings: writer.widenings };
}
