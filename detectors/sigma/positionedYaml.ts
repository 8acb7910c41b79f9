/**
 * Reads (multi-document) YAML into a small tree whose every node knows its line, so rule errors can say FILE:LINE.
 * The `yaml` package does the parsing; this file only maps its nodes to plain typed ones.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { SigmaRuleError } from './ruleError.js';

export type YamlScalar = string | number | boolean | null;

export interface YamlScalarNode {
  kind: 'scalar';
  line: number;
  value: YamlScalar;
}

export interface YamlSeqNode {
  kind: 'seq';
  line: number;
  items: YamlNode[];
}

export interface YamlEntry {
  key: string;
  line: number;
  value: YamlNode;
}

export interface YamlMapNode {
  kind: 'map';
  line: number;
  entries: YamlEntry[];
}

export type YamlNode = YamlScalarNode | YamlSeqNode | YamlMapNode;

/** One YAML document of a file, with the line it starts on. */
export interface YamlDocument {
  line: number;
  root: YamlNode;
}

/** Alias expansion can multiply a small file into a huge tree ("billion laughs"); rules never need this many nodes. */
const MAX_NODES_PER_DOCUMENT = 100_000;

/** Parses every document of `text`; a document with YAML errors is reported and skipped, the others are kept. */
export function parseYamlDocuments(file: string, text: string): { documents: YamlDocument[]; errors: SigmaRuleError[] } {
  const lineCounter = new LineCounter();
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  const documents: YamlDocument[] = [];
  const errors: SigmaRuleError[] = [];
  if (!Array.isArray(parsed)) {
    errors.push(new SigmaRuleError(file, 1, 'the file holds no YAML document'));
    return { documents, errors };
  }
  for (const doc of parsed) {
    const docLine = lineAt(doc.range[0]);
    const firstError = doc.errors[0];
    if (firstError) {
      errors.push(new SigmaRuleError(file, lineAt(firstError.pos[0]), `YAML: ${firstError.message.split('\n')[0] ?? ''}`));
      continue;
    }
    if (doc.contents === null) continue;
    try {
      const converter = new NodeConverter(file, doc, lineAt);
      documents.push({ line: docLine, root: converter.convert(doc.contents as Node, docLine) });
    } catch (error) {
      if (!(error instanceof SigmaRuleError)) throw error;
      errors.push(error);
    }
  }
  return { documents, errors };
}

class NodeConverter {
  private nodes = 0;

  constructor(
    private readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lineAt: (offset: number) => number,
  ) {}

  /** Converts a node and its children, resolving aliases; `fallbackLine` is used for nodes without a range. */
  convert(node: Node | null | undefined, fallbackLine: number, depth = 0): YamlNode {
    if (++this.nodes > MAX_NODES_PER_DOCUMENT || depth > 64) {
      throw new SigmaRuleError(this.file, fallbackLine, `YAML document is too large or too deeply nested (over ${MAX_NODES_PER_DOCUMENT} nodes or 64 levels)`);
    }
    if (node === null || node === undefined) return { kind: 'scalar', line: fallbackLine, value: null };
    const line = node.range ? this.lineAt(node.range[0]) : fallbackLine;
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) throw new SigmaRuleError(this.file, line, `YAML alias *${node.source} has no anchor`);
      return this.convert(target, line, depth + 1);
    }
    if (isScalar(node)) return { kind: 'scalar', line, value: this.scalarValue(node.value, line) };
    if (isSeq(node)) return { kind: 'seq', line, items: node.items.map((item) => this.convert(item as Node, line, depth + 1)) };
    if (isMap(node)) {
      const entries: YamlEntry[] = [];
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key)) throw new SigmaRuleError(this.file, line, 'YAML map keys must be plain scalars');
        const keyLine = pair.key.range ? this.lineAt(pair.key.range[0]) : line;
        const key = pair.key.value;
        if (key === null || typeof key === 'object') throw new SigmaRuleError(this.file, keyLine, 'YAML map keys must be plain scalars');
        entries.push({ key: String(key), line: keyLine, value: this.convert(pair.value as Node | null, keyLine, depth + 1) });
      }
      return { kind: 'map', line, entries };
    }
    throw new SigmaRuleError(this.file, line, 'unsupported YAML node');
  }

  private scalarValue(value: unknown, line: number): YamlScalar {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    throw new SigmaRuleError(this.file, line, `unsupported YAML scalar of type ${typeof value}`);
  }
}
