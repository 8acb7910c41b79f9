/**
 * `tapwire rules lint`: what the engine rejects (parse and compile errors, duplicate ids, unsafe regexes) plus
 * the checks a shipped rule must pass although the engine would run it: Tapwire's required metadata, unused
 * search identifiers and field names the event contract does not have. Every finding is FILE:LINE.
 */
import { CATEGORY_TAG_PREFIX } from './categoryTag.js';
import { identifiersReadBy } from './conditionReferences.js';
import { lookupEventField } from './eventFieldCatalog.js';
import { DERIVED_FIELDS } from './derivedFields.js';
import { parseYamlDocuments, type YamlDocument, type YamlEntry, type YamlMapNode } from './positionedYaml.js';
import { compileRules, type RuleSource, type SigmaCompileOptions } from './ruleCompiler.js';
import { SigmaRuleError } from './ruleError.js';
import type { SigmaRule } from './ruleModel.js';
import { parseRuleDocument } from './ruleParser.js';

export type LintSeverity = 'error' | 'warning';

export interface LintFinding {
  file: string;
  line: number;
  severity: LintSeverity;
  message: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const SIGMA_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const SIGMA_TAG = /^[a-z0-9_-]+\.[a-z0-9._-]+$/;
const REQUIRED_TEXT = ['id', 'title', 'description', 'status', 'level', 'author', 'date'] as const;
const REQUIRED_LISTS = ['references', 'falsepositives', 'tags'] as const;
/** Top-level keys of the Sigma v2 rule and correlation formats. */
const KNOWN_KEYS = new Set([
  'title', 'id', 'related', 'name', 'taxonomy', 'status', 'description', 'license', 'author', 'references', 'date', 'modified',
  'logsource', 'detection', 'correlation', 'falsepositives', 'level', 'tags', 'fields', 'scope', 'generate',
]);

/** `FILE:LINE: severity: message`, the form editors and CI annotate. */
export function formatLintFinding(finding: LintFinding): string {
  return `${finding.file}:${finding.line}: ${finding.severity}: ${finding.message}`;
}

/** Collects findings for one document. */
class DocumentLint {
  readonly findings: LintFinding[] = [];

  /** Lints the document `root` of `file`. */
  constructor(
    private readonly file: string,
    private readonly root: YamlMapNode,
  ) {}

  private add(line: number, severity: LintSeverity, message: string): void {
    this.findings.push({ file: this.file, line, severity, message });
  }

  private entry(key: string): YamlEntry | undefined {
    return this.root.entries.find((e) => e.key === key);
  }

  /** Texts of a scalar-or-list entry (non-strings are left to the engine's own errors). */
  private texts(entry: YamlEntry): string[] {
    const node = entry.value;
    const items = node.kind === 'seq' ? node.items : [node];
    return items.flatMap((item) => (item.kind === 'scalar' && item.value !== null && String(item.value).trim() !== '' ? [String(item.value)] : []));
  }

  /**
   * Tapwire's required metadata. `engineRejectedHere` says the engine already reported this document at its
   * first line, where it names a missing level or category itself.
   */
  checkMetadata(isDetection: boolean, engineRejectedHere: boolean): void {
    for (const key of REQUIRED_TEXT) {
      const entry = this.entry(key);
      if (!entry || this.texts(entry).length === 0) {
        if (!(engineRejectedHere && (key === 'level' || key === 'title'))) this.add(this.root.line, 'error', `${key} is required`);
      }
    }
    for (const key of REQUIRED_LISTS) {
      const entry = this.entry(key);
      if (!entry || this.texts(entry).length === 0) this.add(entry?.line ?? this.root.line, 'error', `${key} must list at least one entry`);
    }
    const id = this.entry('id');
    const idText = id && this.texts(id)[0];
    if (id && idText !== undefined && !UUID.test(idText)) this.add(id.line, 'error', `id '${idText}' is not a UUID`);
    for (const key of ['date', 'modified']) {
      const entry = this.entry(key);
      const text = entry && this.texts(entry)[0];
      if (entry && text !== undefined && !SIGMA_DATE.test(text)) this.add(entry.line, 'error', `${key} '${text}' is not a date written YYYY-MM-DD`);
    }
    this.checkTags(engineRejectedHere);
    if (isDetection) this.checkLogsource();
    for (const e of this.root.entries) {
      if (!KNOWN_KEYS.has(e.key)) this.add(e.line, 'warning', `'${e.key}' is not a Sigma rule field (misspelt?)`);
    }
  }

  private checkTags(engineRejectedHere: boolean): void {
    const entry = this.entry('tags');
    if (!entry) return;
    const tags = this.texts(entry);
    for (const tag of tags) if (!SIGMA_TAG.test(tag)) this.add(entry.line, 'warning', `tag '${tag}' is not of the form namespace.name in lower case`);
    if (!engineRejectedHere && !tags.some((t) => t.startsWith(CATEGORY_TAG_PREFIX))) this.add(entry.line, 'error', `tags must include exactly one ${CATEGORY_TAG_PREFIX}<category> tag`);
  }

  private checkLogsource(): void {
    const logsource = this.entry('logsource');
    if (!logsource || logsource.value.kind !== 'map') return;
    // Sigma allows it (a rule over text that several categories carry), but it costs a test on every event.
    if (!logsource.value.entries.some((e) => e.key === 'category')) this.add(logsource.line, 'warning', 'no logsource.category: the rule runs on every event');
  }

  /** Search identifiers no condition uses. */
  checkUnusedIdentifiers(rule: SigmaRule): void {
    if (rule.kind !== 'detection') return;
    const used = identifiersReadBy(rule.conditions);
    for (const identifier of rule.identifiers.values()) {
      if (!used.has(identifier.name)) this.add(identifier.line, 'warning', `search identifier '${identifier.name}' is not used by the condition`);
    }
  }

  /** Field names the event contract does not define. */
  checkFieldNames(rule: SigmaRule): void {
    const check = (field: string, line: number): void => {
      if (lookupEventField(field).status !== 'unknown') return;
      this.add(line, 'warning', `field '${field}' is not in the event schema or the derived fields (${[...DERIVED_FIELDS.keys()].join(', ')})`);
    };
    if (rule.kind === 'correlation') {
      const { groupBy, valueField, aliases, meta } = rule;
      const aliased = new Set(aliases.keys());
      for (const field of [...groupBy, ...(valueField === undefined ? [] : [valueField])]) if (!aliased.has(field)) check(field, meta.location.line);
      for (const fields of aliases.values()) for (const field of fields.values()) check(field, meta.location.line);
      return;
    }
    for (const identifier of rule.identifiers.values()) {
      for (const item of identifier.alternatives.flat()) {
        if (item.field !== undefined) check(item.field, item.line);
        if (item.modifiers.includes('fieldref')) for (const v of item.values) if (typeof v.value === 'string') check(v.value, v.line);
      }
    }
  }
}

function lintDocument(file: string, document: YamlDocument, rejectedLines: ReadonlySet<string>): LintFinding[] {
  if (document.root.kind !== 'map') return [];
  const lint = new DocumentLint(file, document.root);
  const isDetection = document.root.entries.some((e) => e.key === 'detection');
  lint.checkMetadata(isDetection, rejectedLines.has(`${file}:${document.root.line}`));
  let rule: SigmaRule | undefined;
  try {
    rule = parseRuleDocument(file, document);
  } catch (error) {
    // The compiler reports this rule's parse error; the checks below need a parsed rule.
    if (!(error instanceof SigmaRuleError)) throw error;
  }
  if (rule) {
    lint.checkUnusedIdentifiers(rule);
    lint.checkFieldNames(rule);
  }
  return lint.findings;
}

/** Lints rule files together (so duplicate ids and correlations across files are seen); findings sorted by file and line. */
export function lintRuleSources(sources: readonly RuleSource[], options: SigmaCompileOptions = {}): LintFinding[] {
  const { errors } = compileRules(sources, options);
  const findings: LintFinding[] = errors.map((e) => ({ file: e.file, line: e.line, severity: 'error', message: e.detail }));
  const rejectedLines = new Set(errors.map((e) => `${e.file}:${e.line}`));
  for (const source of sources) {
    for (const document of parseYamlDocuments(source.path, source.text).documents) findings.push(...lintDocument(source.path, document, rejectedLines));
  }
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.message.localeCompare(b.message));
}
