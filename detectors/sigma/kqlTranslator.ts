/**
 * Writes a detection query tree as KQL (Kibana Query Language) for a Kibana query or threshold rule.
 *
 * KQL's limits decide what is refused: its only wildcard is `*` (no `?`); it compares keyword values exactly
 * (Sigma compares ignoring case by default); Elasticsearch runs only exact and prefix matches on flattened
 * sub-fields; and an unquoted value loses leading and trailing white space. Escaping follows Kibana's KQL
 * grammar: in quoted values `\` and `"`; in unquoted ones `\ ( ) : < > " * { }`, the words and/or/not
 * where they would read as operators, and tab, CR and LF as `\t \r \n`.
 */
import { describeSigmaValue, hasCasedLetters, UntranslatableRuleError, type QueryNode } from './detectionQuery.js';
import { QueryWriter, type LeafNode, type StringNode, type WrittenComparison } from './queryWriter.js';
import { ANY_RUN } from './sigmaString.js';

export interface KqlOptions {
  /**
   * Write case-insensitive comparisons of letters as exact ones (matching the value as written) instead of
   * refusing the rule.
   */
  caseSensitiveMatching?: boolean;
}

const escapeWhitespace = (text: string): string => text.replace(/\t/g, '\\t').replace(/\r/g, '\\r').replace(/\n/g, '\\n');

/** A KQL quoted value: a literal phrase, no wildcards. */
export function kqlQuoted(text: string): string {
  return `"${escapeWhitespace(text.replace(/[\\"]/g, '\\$&'))}"`;
}

/** Literal text inside an unquoted KQL value (where `*` would be a wildcard). */
export function kqlUnquoted(text: string): string {
  const special = text.replace(/[\\():<>"*{}]/g, '\\$&');
  // `\not` would read as `\n` + "ot" (the grammar tries escaped white space first), so 'n' is written as \u006e.
  const operators = special.replace(/(\s)(and|or)(?=\s)/gi, '$1\\$2').replace(/not(?=\s)/gi, (word) => `\\u${word.charCodeAt(0).toString(16).padStart(4, '0')}${word.slice(1)}`);
  return escapeWhitespace(operators);
}

/** KQL groups comparisons by field: `field: (a or b)`. */
class KqlWriter extends QueryWriter<{ key: string }> {
  constructor(private readonly options: KqlOptions) {
    super();
  }

  protected field(node: LeafNode | StringNode): string {
    return kqlUnquoted(node.field.name);
  }

  protected leaf(node: Exclude<LeafNode, { kind: 'range' }>): string {
    return node.kind === 'exists' ? `${this.field(node)}: *` : `${this.field(node)}: ${kqlQuoted(node.network)}`;
  }

  protected comparison(node: StringNode): WrittenComparison<{ key: string }> {
    return { left: { key: this.field(node) }, value: this.value(node) };
  }

  protected single(left: { key: string }, value: string): string {
    return `${left.key}: ${value}`;
  }

  protected list(left: { key: string }, values: string[]): string {
    return `${left.key}: (${values.join(' or ')})`;
  }

  private value(node: StringNode): string {
    const { field, value } = node;
    const scalar = this.scalarLiteral(node);
    if (scalar !== undefined) return scalar;
    const wildcards = value.parts.filter((p) => typeof p !== 'string');
    const text = describeSigmaValue(value);
    if (!node.cased && hasCasedLetters(value) && !this.options.caseSensitiveMatching) {
      throw new UntranslatableRuleError(`'${field.name}' is compared with '${text}' ignoring case, but Elasticsearch compares ${field.type} values exactly and KQL cannot fold case`);
    }
    if (wildcards.length === 0) return kqlQuoted(text);
    if (wildcards.some((w) => w !== ANY_RUN)) throw new UntranslatableRuleError(`'${field.name}': the '?' wildcard in '${text}' has no KQL form (KQL has only '*')`);
    if (value.parts.length === 1) return '*';
    const prefixOnly = value.parts.length === 2 && value.parts[1] === ANY_RUN;
    if ((field.type === 'flattened' && !prefixOnly) || field.type === 'ip' || field.type === 'date') {
      const what = field.type === 'flattened' ? 'flattened sub-field, where Elasticsearch runs only exact and prefix matches' : `${field.type} field`;
      throw new UntranslatableRuleError(`'${field.name}' is a ${what}; '${text}' needs a wildcard query`);
    }
    const first = value.parts[0];
    const last = value.parts[value.parts.length - 1];
    if ((typeof first === 'string' && /^\s/.test(first)) || (typeof last === 'string' && /\s$/.test(last))) {
      throw new UntranslatableRuleError(`'${field.name}': '${text}' starts or ends with white space, which an unquoted KQL value loses`);
    }
    return value.parts.map((p) => (typeof p === 'string' ? kqlUnquoted(p) : '*')).join('');
  }
}

/** The query as KQL; throws UntranslatableRuleError for what KQL cannot say. */
export function toKql(node: QueryNode, options: KqlOptions = {}): string {
  return new KqlWriter(options).write(node);
}
