/**
 * What writing a query tree as Lucene and as EQL share: both have the boolean operators and, or, not (each
 * spelling them its own way), and both can list several values of one comparison (Lucene `f:(a OR b)`, EQL
 * `f : ("a", "b")`), which keeps exported queries short. Each language writes its own comparisons.
 */
import { describeSigmaValue, UntranslatableRuleError, type QueryNode } from './detectionQuery.js';

/** A comparison of a field with a value (a Sigma string or an RE2 pattern), which lists may group. */
export type StringNode = Extract<QueryNode, { kind: 'string' | 'regex' }>;
export type LeafNode = Extract<QueryNode, { kind: 'exists' | 'range' | 'cidr' }>;

/** The left side of a string comparison (its `key` groups comparisons in an or), and its written value. */
export interface WrittenComparison<Left extends { key: string }> {
  left: Left;
  value: string;
}

const RANGE_OPERATORS = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;
const isNumeric = (text: string): boolean => text.trim() !== '' && Number.isFinite(Number(text));

/** Writes and/or/not and groups comparisons; subclasses write the comparisons of their language. */
export abstract class QueryWriter<Left extends { key: string }> {
  /** The query as text; `parent` is the operator the node sits under. */
  write(node: QueryNode, parent?: QueryNode['kind']): string {
    switch (node.kind) {
      case 'and':
      case 'or': {
        const parts = this.junction(node.kind, node.operands);
        const text = parts.join(` ${this.operators[node.kind]} `);
        return parent === undefined || parts.length === 1 ? text : `(${text})`;
      }
      case 'not':
        return this.negation(this.write(node.operand, 'not'));
      case 'string':
      case 'regex': {
        const { left, value } = this.comparison(node);
        return this.single(left, value);
      }
      case 'range':
        return this.range(node);
      default:
        return this.leaf(node);
    }
  }

  /** Operands joined by and/or; in an or, comparisons with the same left side share one list. */
  private junction(kind: 'and' | 'or', operands: readonly QueryNode[]): string[] {
    const entries: ({ text: string } | { left: Left; values: string[] })[] = [];
    const groups = new Map<string, { left: Left; values: string[] }>();
    for (const operand of operands) {
      if (kind !== 'or' || (operand.kind !== 'string' && operand.kind !== 'regex')) {
        entries.push({ text: this.write(operand, kind) });
        continue;
      }
      const { left, value } = this.comparison(operand);
      const group = groups.get(left.key);
      if (group) {
        group.values.push(value);
      } else {
        const created = { left, values: [value] };
        groups.set(left.key, created);
        entries.push(created);
      }
    }
    return entries.map((e) => ('text' in e ? e.text : e.values.length === 1 ? this.single(e.left, e.values[0] as string) : this.list(e.left, e.values)));
  }

  /** How the language spells and / or. */
  protected readonly operators: Record<'and' | 'or', string> = { and: 'and', or: 'or' };

  /** A numeric comparison. */
  protected range(node: Extract<LeafNode, { kind: 'range' }>): string {
    return `${this.field(node)} ${RANGE_OPERATORS[node.comparison]} ${node.value}`;
  }

  /** The negation of an already written operand. */
  protected negation(operand: string): string {
    return `not ${operand}`;
  }

  /** The literal of a comparison with a numeric or boolean field; undefined for the other field types. */
  protected scalarLiteral(node: Extract<QueryNode, { kind: 'string' }>): string | undefined {
    const { field, value } = node;
    if (field.type !== 'long' && field.type !== 'double' && field.type !== 'boolean') return undefined;
    const text = describeSigmaValue(value);
    const literal = field.type === 'boolean' ? ['true', 'false'].includes(text.toLowerCase()) : isNumeric(text);
    if (value.parts.some((p) => typeof p !== 'string') || !literal) throw new UntranslatableRuleError(`'${field.name}' is ${field.type} in Elasticsearch and cannot be compared with '${text}'`);
    return field.type === 'boolean' ? text.toLowerCase() : text;
  }

  /** The field of a leaf as the language names it. */
  protected abstract field(node: LeafNode | StringNode): string;
  /** An exists or cidr test. */
  protected abstract leaf(node: Exclude<LeafNode, { kind: 'range' }>): string;
  /** A string comparison split into its left side and value. */
  protected abstract comparison(node: StringNode): WrittenComparison<Left>;
  /** One comparison. */
  protected abstract single(left: Left, value: string): string;
  /** Several values of one left side, any of which may match. */
  protected abstract list(left: Left, values: string[]): string;
}
