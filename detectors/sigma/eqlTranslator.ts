/**
 * Writes a detection query tree as an EQL condition, for Kibana EQL rules: single-event rules
 * (`any where …`) and the steps of sequences. EQL fits where KQL does not: its `:` operator compares keyword
 * values ignoring case, with `*` and `?` wildcards, exactly as Sigma does by default. It cannot query
 * flattened fields, and its wildcard patterns have no escape for a literal `*`, `?` or `\`, so those are refused.
 */
import { describeSigmaValue, hasCasedLetters, UntranslatableRuleError, type QueryNode } from './detectionQuery.js';
import { QueryWriter, type LeafNode, type StringNode, type WrittenComparison } from './queryWriter.js';

/** EQL reserved words; a field segment spelt like one must be quoted. */
const KEYWORDS = new Set(['and', 'any', 'by', 'false', 'in', 'join', 'like', 'maxspan', 'not', 'null', 'of', 'or', 'regex', 'sample', 'sequence', 'true', 'until', 'where', 'with']);

/** An EQL double-quoted string literal. */
export function eqlString(text: string): string {
  const escaped = text.replace(/[\\"]/g, '\\$&').replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u{${c.charCodeAt(0).toString(16)}}`;
  });
  return `"${escaped}"`;
}

/** A field name as EQL reads it, back-quoted when it is not a plain dotted identifier. */
export function eqlField(name: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name) && !name.split('.').some((s) => KEYWORDS.has(s.toLowerCase()));
  return plain ? name : `\`${name.replace(/`/g, '``')}\``;
}

/** The left side of an EQL comparison: field and operator. */
interface EqlLeft {
  key: string;
  field: string;
  operator: '==' | ':' | 'like';
}

/** EQL groups comparisons by field and operator: `f : ("a", "b")`, `f in ("a", "b")`. */
class EqlWriter extends QueryWriter<EqlLeft> {
  protected field(node: LeafNode | StringNode): string {
    const { field } = node;
    if (field.type === 'flattened' || field.type === 'object') throw new UntranslatableRuleError(`'${field.name}' is a ${field.type} field, which EQL cannot query`);
    return eqlField(field.name);
  }

  protected leaf(node: Exclude<LeafNode, { kind: 'range' }>): string {
    return node.kind === 'exists' ? `${this.field(node)} != null` : `cidrMatch(${this.field(node)}, ${eqlString(node.network)})`;
  }

  protected single(left: EqlLeft, value: string): string {
    return `${left.key} ${value}`;
  }

  protected list(left: EqlLeft, values: string[]): string {
    return `${left.field} ${left.operator === '==' ? 'in' : left.operator} (${values.join(', ')})`;
  }

  protected comparison(node: StringNode): WrittenComparison<EqlLeft> {
    const field = this.field(node);
    const make = (operator: EqlLeft['operator'], value: string): WrittenComparison<EqlLeft> => ({ left: { key: `${field} ${operator}`, field, operator }, value });
    if (node.kind === 'regex') throw new UntranslatableRuleError(`'${node.field.name}|re': EQL sequences are written without regular expressions`);
    const scalar = this.scalarLiteral(node);
    if (scalar !== undefined) return make('==', scalar);
    const { value } = node;
    const text = describeSigmaValue(value);
    const wildcards = value.parts.some((p) => typeof p !== 'string');
    const literal = value.parts.map((p) => (typeof p === 'string' ? p : '')).join('');
    const foldCase = !node.cased && hasCasedLetters(value);
    if (!wildcards && !foldCase) return make('==', eqlString(literal));
    if (node.field.type !== 'keyword' && node.field.type !== 'wildcard') throw new UntranslatableRuleError(`'${node.field.name}' is ${node.field.type} in Elasticsearch; '${text}' needs a keyword pattern match`);
    if (/[*?\\]/.test(literal)) throw new UntranslatableRuleError(`'${node.field.name}': '${text}' holds a literal '*', '?' or '\\', which EQL patterns cannot escape`);
    return make(foldCase ? ':' : 'like', eqlString(text));
  }
}

/** The query as an EQL condition; throws UntranslatableRuleError for what EQL cannot say. */
export function toEql(node: QueryNode): string {
  return new EqlWriter().write(node);
}
