/**
 * The Sigma condition language: a tokenizer and a recursive-descent parser.
 * Precedence, least to most binding: or, and, not, `x of`, parentheses (Sigma specification v2).
 */
import type { ConditionNode, RuleLocation } from './ruleModel.js';
import { SigmaRuleError } from './ruleError.js';

type TokenKind = 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'of' | 'them' | 'all' | 'number' | 'word' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
  column: number;
}

const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'of', 'them', 'all']);

/** Words a search identifier may not be named, because the condition language reserves them. */
export const RESERVED_CONDITION_WORDS: ReadonlySet<string> = KEYWORDS;

const WORD = /[A-Za-z0-9_.*-]/;

class ConditionParser {
  private readonly tokens: Token[];
  private position = 0;

  constructor(
    private readonly text: string,
    private readonly identifiers: readonly string[],
    private readonly location: RuleLocation,
  ) {
    this.tokens = this.tokenize();
  }

  /** The whole condition; nothing may follow it. */
  parse(): ConditionNode {
    const node = this.parseOr();
    const next = this.peek();
    if (next.kind !== 'end') this.fail(`unexpected '${next.text}'`, next.column);
    return node;
  }

  private fail(message: string, column: number): never {
    throw new SigmaRuleError(this.location.file, this.location.line, `condition '${this.text}': ${message} at column ${column}`);
  }

  private tokenize(): Token[] {
    const tokens: Token[] = [];
    let i = 0;
    while (i < this.text.length) {
      const ch = this.text[i] as string;
      const column = i + 1;
      if (/\s/.test(ch)) {
        i++;
      } else if (ch === '(' || ch === ')') {
        tokens.push({ kind: ch === '(' ? 'lparen' : 'rparen', text: ch, column });
        i++;
      } else if (WORD.test(ch)) {
        let end = i;
        while (end < this.text.length && WORD.test(this.text[end] as string)) end++;
        const text = this.text.slice(i, end);
        const lower = text.toLowerCase();
        const kind: TokenKind = KEYWORDS.has(lower) ? (lower as TokenKind) : /^[0-9]+$/.test(text) ? 'number' : 'word';
        tokens.push({ kind, text, column });
        i = end;
      } else if (ch === '|') {
        this.fail("aggregation expressions ('| count() ...') are Sigma v1 and unsupported; write a correlation rule", column);
      } else {
        this.fail(`unexpected character '${ch}'`, column);
      }
    }
    tokens.push({ kind: 'end', text: 'end of condition', column: this.text.length + 1 });
    return tokens;
  }

  private peek(): Token {
    return this.tokens[this.position] as Token;
  }

  private next(): Token {
    return this.tokens[this.position++] as Token;
  }

  private parseOr(): ConditionNode {
    return this.parseChain('or', () => this.parseAnd());
  }

  private parseAnd(): ConditionNode {
    return this.parseChain('and', () => this.parseNot());
  }

  /** operand (kind operand)*, flattened into one node. */
  private parseChain(kind: 'and' | 'or', parseOperand: () => ConditionNode): ConditionNode {
    const operands = [parseOperand()];
    while (this.peek().kind === kind) {
      this.next();
      operands.push(parseOperand());
    }
    return operands.length === 1 ? (operands[0] as ConditionNode) : { type: kind, operands };
  }

  private parseNot(): ConditionNode {
    if (this.peek().kind !== 'not') return this.parsePrimary();
    this.next();
    return { type: 'not', operand: this.parseNot() };
  }

  private parsePrimary(): ConditionNode {
    const token = this.next();
    switch (token.kind) {
      case 'lparen': {
        const inner = this.parseOr();
        const close = this.next();
        if (close.kind !== 'rparen') this.fail(`expected ')' but found '${close.text}'`, close.column);
        return inner;
      }
      case 'number':
      case 'all':
        return this.parseOf(token);
      case 'word':
        if (token.text.includes('*')) this.fail(`the pattern '${token.text}' needs '1 of' or 'all of' before it`, token.column);
        if (!this.identifiers.includes(token.text)) this.fail(`unknown search identifier '${token.text}'`, token.column);
        return { type: 'ref', name: token.text };
      default:
        return this.fail(`expected a search identifier, 'not', '1 of', 'all of' or '(' but found '${token.text}'`, token.column);
    }
  }

  private parseOf(quantifier: Token): ConditionNode {
    if (quantifier.kind === 'number' && quantifier.text !== '1') {
      this.fail(`only '1 of' and 'all of' are supported, not '${quantifier.text} of'`, quantifier.column);
    }
    const of = this.next();
    if (of.kind !== 'of') this.fail(`expected 'of' after '${quantifier.text}'`, of.column);
    const target = this.next();
    let names: string[];
    if (target.kind === 'them') {
      names = this.identifiers.filter((name) => !name.startsWith('_'));
    } else if (target.kind === 'word') {
      const pattern = new RegExp(`^${target.text.replace(/[.+?^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*')}$`);
      names = this.identifiers.filter((name) => pattern.test(name));
    } else {
      return this.fail(`expected 'them' or a search identifier pattern after 'of' but found '${target.text}'`, target.column);
    }
    if (names.length === 0) this.fail(`'${quantifier.text} of ${target.text}' matches no search identifier`, target.column);
    return { type: 'of', quantifier: quantifier.kind === 'all' ? 'all' : 'one', names };
  }
}

/** Parses one condition string against the rule's search identifiers; throws SigmaRuleError naming the column. */
export function parseCondition(text: string, identifiers: readonly string[], location: RuleLocation): ConditionNode {
  return new ConditionParser(text, identifiers, location).parse();
}
