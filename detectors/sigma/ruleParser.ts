/**
 * Turns one YAML document into a typed Sigma rule (detection or correlation), rejecting anything the engine
 * would not evaluate exactly as written. Modifier semantics are checked later, when values are compiled.
 */
import { categoriesFromTags, CATEGORY_TAG_PREFIX } from './categoryTag.js';
import { parseCondition, RESERVED_CONDITION_WORDS } from './conditionParser.js';
import { MCP_LOGSOURCE_CATEGORIES, MCP_PRODUCT, mcpLogsourceCategory } from './mcpLogsource.js';
import type { YamlDocument, YamlEntry, YamlMapNode, YamlNode, YamlScalar } from './positionedYaml.js';
import { SigmaRuleError } from './ruleError.js';
import type {
  CorrelationType,
  CountBounds,
  DetectionItem,
  SearchIdentifier,
  SigmaCorrelationRule,
  SigmaDetectionRule,
  SigmaLevel,
  SigmaRule,
  SigmaRuleMeta,
} from './ruleModel.js';

const LEVELS: readonly SigmaLevel[] = ['informational', 'low', 'medium', 'high', 'critical'];
const STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'];
const CORRELATION_TYPES: readonly CorrelationType[] = ['event_count', 'value_count', 'temporal', 'temporal_ordered'];
const CORRELATION_KEYS = new Set(['type', 'rules', 'group-by', 'timespan', 'condition', 'aliases', 'generate']);
const BOUND_KEYS = ['gt', 'gte', 'lt', 'lte', 'eq'] as const;
const TIMESPAN_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const IDENTIFIER_NAME = /^[A-Za-z0-9_.-]+$/;

/** Reads values out of one document, failing with the document's file and the offending line. */
class DocumentReader {
  /** Reads documents of `file`. */
  constructor(readonly file: string) {}

  /** Throws the FILE:LINE error. */
  fail(line: number, message: string): never {
    throw new SigmaRuleError(this.file, line, message);
  }

  /** The node as a map, or an error naming `what`. */
  map(node: YamlNode, what: string): YamlMapNode {
    if (node.kind !== 'map') this.fail(node.line, `${what} must be a map`);
    return node;
  }

  /** The map's entry for `key`. */
  entry(map: YamlMapNode, key: string): YamlEntry | undefined {
    return map.entries.find((e) => e.key === key);
  }

  /** The entry's string value (undefined when the entry is absent). */
  string(entry: YamlEntry | undefined, what: string): string | undefined {
    if (!entry) return undefined;
    const node = entry.value;
    if (node.kind !== 'scalar' || typeof node.value !== 'string') this.fail(entry.line, `${what} must be a string`);
    return node.value;
  }

  /** A non-empty string the map must have. */
  requiredString(map: YamlMapNode, key: string, what: string): string {
    const value = this.string(this.entry(map, key), what);
    if (value === undefined || value.trim() === '') this.fail(map.line, `${what} is required`);
    return value;
  }

  /** A string or a list of strings, as a list. */
  strings(entry: YamlEntry | undefined, what: string): string[] {
    if (!entry) return [];
    const node = entry.value;
    const items = node.kind === 'seq' ? node.items : [node];
    return items.map((item) => {
      if (item.kind !== 'scalar' || typeof item.value !== 'string') this.fail(item.line, `${what} must be a string or a list of strings`);
      return item.value;
    });
  }

  /** A string that must be one of `allowed`. */
  oneOf<T extends string>(entry: YamlEntry | undefined, what: string, allowed: readonly T[]): T | undefined {
    const value = this.string(entry, what);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) this.fail((entry as YamlEntry).line, `${what} '${value}' is not one of ${allowed.join(', ')}`);
    return value as T;
  }
}

function parseMeta(reader: DocumentReader, root: YamlMapNode): SigmaRuleMeta {
  const title = reader.requiredString(root, 'title', 'title');
  if (title.length > 256) reader.fail(reader.entry(root, 'title')?.line ?? root.line, 'title is longer than 256 characters');
  const id = reader.requiredString(root, 'id', 'id');
  if (/\s/.test(id)) reader.fail(reader.entry(root, 'id')?.line ?? root.line, `id '${id}' contains white space`);
  const status = reader.oneOf(reader.entry(root, 'status'), 'status', STATUSES);
  if (status === 'unsupported') reader.fail(reader.entry(root, 'status')?.line ?? root.line, 'status unsupported: the rule declares itself unusable');
  const taxonomy = reader.string(reader.entry(root, 'taxonomy'), 'taxonomy');
  if (taxonomy !== undefined && taxonomy !== 'sigma') reader.fail(reader.entry(root, 'taxonomy')?.line ?? root.line, `taxonomy '${taxonomy}' is not supported (only 'sigma')`);
  const tagsEntry = reader.entry(root, 'tags');
  const tags = reader.strings(tagsEntry, 'tags');
  const { categories, unknown } = categoriesFromTags(tags);
  if (unknown.length > 0) reader.fail(tagsEntry?.line ?? root.line, `unknown category tag ${unknown.join(', ')} (${CATEGORY_TAG_PREFIX}<one of the alert schema's rule.category values>)`);
  if (categories.length > 1) reader.fail(tagsEntry?.line ?? root.line, `a rule has exactly one ${CATEGORY_TAG_PREFIX}* tag, found ${categories.length}`);
  const author = reader.strings(reader.entry(root, 'author'), 'author');
  const meta: SigmaRuleMeta = {
    title,
    id,
    description: reader.string(reader.entry(root, 'description'), 'description') ?? '',
    references: reader.strings(reader.entry(root, 'references'), 'references'),
    authors: author.flatMap((a) => a.split(',')).map((a) => a.trim()).filter((a) => a !== ''),
    tags,
    location: { file: reader.file, line: root.line },
  };
  const name = reader.string(reader.entry(root, 'name'), 'name');
  if (name !== undefined) meta.name = name;
  const date = reader.string(reader.entry(root, 'date'), 'date');
  if (date !== undefined) meta.date = date;
  const modified = reader.string(reader.entry(root, 'modified'), 'modified');
  if (modified !== undefined) meta.modified = modified;
  const level = reader.oneOf(reader.entry(root, 'level'), 'level', LEVELS);
  if (level !== undefined) meta.level = level;
  if (categories[0] !== undefined) meta.category = categories[0];
  return meta;
}

function parseLogsource(reader: DocumentReader, root: YamlMapNode): SigmaDetectionRule['logsource'] {
  const entry = reader.entry(root, 'logsource');
  if (!entry) reader.fail(root.line, 'logsource is required');
  const map = reader.map(entry.value, 'logsource');
  for (const e of map.entries) {
    if (e.key === 'service') reader.fail(e.line, `logsource.service is not supported for product ${MCP_PRODUCT}`);
    if (!['product', 'category', 'definition'].includes(e.key)) reader.fail(e.line, `logsource.${e.key} is not supported (product, category, definition)`);
  }
  const product = reader.string(reader.entry(map, 'product'), 'logsource.product');
  if (product !== MCP_PRODUCT) reader.fail(reader.entry(map, 'product')?.line ?? map.line, `logsource.product must be '${MCP_PRODUCT}'${product === undefined ? '' : `, not '${product}'`}`);
  const categoryEntry = reader.entry(map, 'category');
  const category = reader.string(categoryEntry, 'logsource.category');
  if (category === undefined) return { product };
  if (!mcpLogsourceCategory(category)) {
    reader.fail((categoryEntry as YamlEntry).line, `unknown logsource.category '${category}' for product ${MCP_PRODUCT} (${MCP_LOGSOURCE_CATEGORIES.map((c) => c.name).join(', ')})`);
  }
  return { product, category };
}

function scalarValues(reader: DocumentReader, node: YamlNode, what: string): { values: { value: YamlScalar; line: number }[]; listed: boolean } {
  if (node.kind === 'scalar') return { values: [{ value: node.value, line: node.line }], listed: false };
  if (node.kind === 'map') reader.fail(node.line, `${what}: a value must be a scalar or a list of scalars, not a map`);
  if (node.items.length === 0) reader.fail(node.line, `${what}: the list of values is empty`);
  return {
    listed: true,
    values: node.items.map((item) => {
      if (item.kind !== 'scalar') reader.fail(item.line, `${what}: list values must be scalars`);
      return { value: item.value, line: item.line };
    }),
  };
}

function parseItemMap(reader: DocumentReader, map: YamlMapNode, identifier: string): DetectionItem[] {
  if (map.entries.length === 0) reader.fail(map.line, `search identifier '${identifier}' holds an empty map`);
  return map.entries.map((entry) => {
    const [field = '', ...modifiers] = entry.key.split('|');
    if (modifiers.some((m) => m === '')) reader.fail(entry.line, `'${entry.key}': empty modifier name`);
    const what = field === '' ? `'${entry.key}'` : `field '${field}'`;
    const { values, listed } = scalarValues(reader, entry.value, what);
    return { field: field === '' ? undefined : field, modifiers, values, listed, line: entry.line };
  });
}

function parseIdentifier(reader: DocumentReader, entry: YamlEntry): SearchIdentifier {
  const name = entry.key;
  if (!IDENTIFIER_NAME.test(name) || /^[0-9]+$/.test(name) || RESERVED_CONDITION_WORDS.has(name.toLowerCase())) {
    reader.fail(entry.line, `'${name}' cannot name a search identifier (letters, digits, '_', '-', '.'; not a condition keyword)`);
  }
  const node = entry.value;
  const keyword = (values: { value: YamlScalar; line: number }[], listed: boolean): DetectionItem[] => [
    { field: undefined, modifiers: [], values, listed, line: entry.line },
  ];
  if (node.kind === 'map') return { name, line: entry.line, alternatives: [parseItemMap(reader, node, name)] };
  if (node.kind === 'scalar') {
    if (node.value === null) reader.fail(entry.line, `search identifier '${name}' is empty`);
    return { name, line: entry.line, alternatives: [keyword([{ value: node.value, line: node.line }], false)] };
  }
  if (node.items.length === 0) reader.fail(entry.line, `search identifier '${name}' holds an empty list`);
  if (node.items.every((item) => item.kind === 'map')) {
    return { name, line: entry.line, alternatives: node.items.map((item) => parseItemMap(reader, item as YamlMapNode, name)) };
  }
  if (node.items.every((item) => item.kind === 'scalar')) {
    return { name, line: entry.line, alternatives: [keyword(scalarValues(reader, node, `search identifier '${name}'`).values, true)] };
  }
  return reader.fail(entry.line, `search identifier '${name}' mixes maps and plain values in one list`);
}

function parseDetection(reader: DocumentReader, root: YamlMapNode, meta: SigmaRuleMeta): SigmaDetectionRule {
  const logsource = parseLogsource(reader, root);
  const entry = reader.entry(root, 'detection');
  const detection = reader.map((entry as YamlEntry).value, 'detection');
  const identifiers = new Map<string, SearchIdentifier>();
  let conditionEntry: YamlEntry | undefined;
  for (const e of detection.entries) {
    if (e.key === 'condition') conditionEntry = e;
    else if (e.key === 'timeframe') reader.fail(e.line, 'detection.timeframe is Sigma v1 aggregation; write a correlation rule with a timespan');
    else identifiers.set(e.key, parseIdentifier(reader, e));
  }
  if (!conditionEntry) reader.fail(detection.line, 'detection.condition is required');
  if (identifiers.size === 0) reader.fail(detection.line, 'detection defines no search identifier');
  const node = conditionEntry.value;
  const texts = node.kind === 'seq' ? node.items : [node];
  const names = [...identifiers.keys()];
  const conditions = texts.map((item) => {
    if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value.trim() === '') {
      reader.fail(item.line, 'detection.condition must be a non-empty string or a list of them');
    }
    return parseCondition(item.value, names, { file: reader.file, line: item.line });
  });
  if (conditions.length === 0) reader.fail(conditionEntry.line, 'detection.condition is an empty list');
  return { kind: 'detection', meta, logsource, identifiers, conditions };
}

function parseBounds(reader: DocumentReader, entry: YamlEntry | undefined, type: CorrelationType, ruleCount: number, correlationLine: number): { bounds: CountBounds; valueField?: string } {
  const bounds: CountBounds = {};
  let valueField: string | undefined;
  if (entry) {
    const map = reader.map(entry.value, 'correlation.condition');
    for (const e of map.entries) {
      if (e.key === 'field') {
        if (type !== 'value_count') reader.fail(e.line, `correlation.condition.field applies to value_count only, not ${type}`);
        if (e.value.kind === 'seq') reader.fail(e.line, 'value_count over several fields is not supported; name one field');
        valueField = reader.string(e, 'correlation.condition.field');
      } else if ((BOUND_KEYS as readonly string[]).includes(e.key)) {
        const v = e.value;
        if (v.kind !== 'scalar' || typeof v.value !== 'number' || !Number.isInteger(v.value) || v.value < 0) reader.fail(e.line, `correlation.condition.${e.key} must be a non-negative integer`);
        bounds[e.key as keyof CountBounds] = v.value;
      } else {
        reader.fail(e.line, `correlation.condition.${e.key} is not supported (${BOUND_KEYS.join(', ')}, field)`);
      }
    }
  }
  const line = entry?.line ?? correlationLine;
  const hasBound = BOUND_KEYS.some((k) => bounds[k] !== undefined);
  if (!hasBound) {
    if (type === 'event_count' || type === 'value_count') reader.fail(line, `correlation.condition with gt, gte, lt, lte or eq is required for ${type}`);
    bounds.gte = ruleCount;
  }
  if (type === 'value_count' && valueField === undefined) reader.fail(line, 'value_count needs correlation.condition.field');
  if (type === 'temporal_ordered' && (bounds.lt !== undefined || bounds.lte !== undefined || bounds.eq !== undefined)) {
    reader.fail(line, 'temporal_ordered supports only gt and gte conditions');
  }
  const low = Math.max(bounds.gte ?? 0, bounds.gt === undefined ? 0 : bounds.gt + 1, bounds.eq ?? 0);
  const high = Math.min(bounds.lte ?? Infinity, bounds.lt === undefined ? Infinity : bounds.lt - 1, bounds.eq ?? Infinity);
  if (low > high || high < 1) reader.fail(line, 'correlation.condition can never hold');
  if ((type === 'temporal' || type === 'temporal_ordered') && low > ruleCount) reader.fail(line, `correlation.condition needs ${low} distinct rules but the correlation names ${ruleCount}`);
  return valueField === undefined ? { bounds } : { bounds, valueField };
}

function parseAliases(reader: DocumentReader, entry: YamlEntry | undefined): Map<string, Map<string, string>> {
  const aliases = new Map<string, Map<string, string>>();
  if (!entry) return aliases;
  for (const alias of reader.map(entry.value, 'correlation.aliases').entries) {
    const fields = new Map<string, string>();
    for (const e of reader.map(alias.value, `correlation.aliases.${alias.key}`).entries) {
      fields.set(e.key, reader.string(e, `correlation.aliases.${alias.key}.${e.key}`) ?? '');
    }
    aliases.set(alias.key, fields);
  }
  return aliases;
}

function parseCorrelation(reader: DocumentReader, root: YamlMapNode, meta: SigmaRuleMeta): SigmaCorrelationRule {
  const map = reader.map((reader.entry(root, 'correlation') as YamlEntry).value, 'correlation');
  for (const e of map.entries) {
    if (!CORRELATION_KEYS.has(e.key)) reader.fail(e.line, `correlation.${e.key} is not supported (${[...CORRELATION_KEYS].join(', ')})`);
  }
  const typeEntry = reader.entry(map, 'type');
  if (!typeEntry) reader.fail(map.line, 'correlation.type is required');
  const type = reader.oneOf(typeEntry, 'correlation.type', CORRELATION_TYPES) as CorrelationType;
  const rulesEntry = reader.entry(map, 'rules');
  if (!rulesEntry) reader.fail(map.line, 'correlation.rules is required');
  const rules = (rulesEntry.value.kind === 'seq' ? rulesEntry.value.items : [rulesEntry.value]).map((item) => {
    if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value === '') reader.fail(item.line, 'correlation.rules must list rule ids or names');
    return { ref: item.value, line: item.line };
  });
  if (rules.length === 0) reader.fail(rulesEntry.line, 'correlation.rules is empty');
  if (new Set(rules.map((r) => r.ref)).size !== rules.length) reader.fail(rulesEntry.line, 'correlation.rules names a rule twice');
  if (type === 'temporal' || type === 'temporal_ordered') {
    if (rules.length < 2) reader.fail(rulesEntry.line, `${type} needs at least two rules`);
  }
  const timespanEntry = reader.entry(map, 'timespan');
  const timespanText = reader.string(timespanEntry, 'correlation.timespan');
  const timespan = timespanText === undefined ? null : /^([0-9]+)([smhd])$/.exec(timespanText);
  if (!timespan || Number(timespan[1]) === 0) reader.fail(timespanEntry?.line ?? map.line, "correlation.timespan is required as a positive number and a unit s, m, h or d (e.g. '90m')");
  const groupBy = reader.strings(reader.entry(map, 'group-by'), 'correlation.group-by');
  const { bounds, valueField } = parseBounds(reader, reader.entry(map, 'condition'), type, rules.length, map.line);
  const generateEntry = reader.entry(map, 'generate') ?? reader.entry(root, 'generate');
  let generate = false;
  if (generateEntry) {
    const v = generateEntry.value;
    if (v.kind !== 'scalar' || typeof v.value !== 'boolean') reader.fail(generateEntry.line, 'generate must be true or false');
    generate = v.value;
  }
  const rule: SigmaCorrelationRule = {
    kind: 'correlation',
    meta,
    type,
    rules,
    groupBy,
    timespanMs: Number(timespan[1]) * (TIMESPAN_UNITS[timespan[2] as string] as number),
    timespanText: timespanText as string,
    bounds,
    aliases: parseAliases(reader, reader.entry(map, 'aliases')),
    generate,
  };
  if (valueField !== undefined) rule.valueField = valueField;
  return rule;
}

/** Parses one YAML document into a rule; throws SigmaRuleError (FILE:LINE) on anything unsupported. */
export function parseRuleDocument(file: string, document: YamlDocument): SigmaRule {
  const reader = new DocumentReader(file);
  const root = reader.map(document.root, 'a Sigma rule document');
  for (const key of ['action', 'filter']) {
    const entry = reader.entry(root, key);
    if (entry) reader.fail(entry.line, key === 'action' ? 'action (Sigma v1 rule collections) is not supported' : 'Sigma filter documents are not supported');
  }
  const hasDetection = reader.entry(root, 'detection') !== undefined;
  const hasCorrelation = reader.entry(root, 'correlation') !== undefined;
  if (hasDetection === hasCorrelation) reader.fail(root.line, 'a rule document needs exactly one of detection or correlation');
  const meta = parseMeta(reader, root);
  return hasCorrelation ? parseCorrelation(reader, root, meta) : parseDetection(reader, root, meta);
}
