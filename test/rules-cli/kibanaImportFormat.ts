/**
 * What Kibana's detection rule import (`POST /api/detection_engine/rules/_import`) requires of each NDJSON line,
 * as a JSON Schema checked with ajv, and a reader of KQL unquoted values that follows the UnquotedCharacter
 * rule of Kibana's KQL grammar (kbn-es-query grammar.peggy), to check the exporter's escaping against it.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule.default;

const text = { type: 'string', minLength: 1 };
const texts = { type: 'array', items: text };
const threatReference = {
  type: 'object',
  required: ['id', 'name', 'reference'],
  properties: { id: text, name: text, reference: { type: 'string', format: 'uri' } },
  additionalProperties: false,
};

/** The rule fields the import API needs, with their types; type-specific requirements per rule type. */
const KIBANA_RULE_SCHEMA = {
  type: 'object',
  required: ['rule_id', 'name', 'description', 'type', 'language', 'query', 'index', 'severity', 'risk_score', 'from', 'interval', 'version', 'max_signals', 'enabled'],
  properties: {
    rule_id: text,
    name: text,
    description: text,
    type: { enum: ['query', 'eql', 'threshold'] },
    language: { enum: ['kuery', 'eql'] },
    query: text,
    index: { type: 'array', minItems: 1, items: text },
    severity: { enum: ['low', 'medium', 'high', 'critical'] },
    risk_score: { type: 'integer', minimum: 0, maximum: 100 },
    risk_score_mapping: { type: 'array' },
    severity_mapping: { type: 'array' },
    from: { type: 'string', pattern: '^now-[0-9]+[smhd]$' },
    interval: { type: 'string', pattern: '^[0-9]+[smhd]$' },
    version: { type: 'integer', minimum: 1 },
    max_signals: { type: 'integer', minimum: 1 },
    enabled: { type: 'boolean' },
    tags: texts,
    references: texts,
    false_positives: texts,
    author: texts,
    license: text,
    threat: {
      type: 'array',
      items: {
        type: 'object',
        required: ['framework', 'tactic'],
        properties: {
          framework: text,
          tactic: threatReference,
          technique: {
            type: 'array',
            items: { ...threatReference, properties: { ...threatReference.properties, subtechnique: { type: 'array', items: threatReference } } },
          },
        },
        additionalProperties: false,
      },
    },
    threshold: {
      type: 'object',
      required: ['field', 'value'],
      properties: {
        field: { type: 'array', items: text },
        value: { type: 'integer', minimum: 1 },
        cardinality: { type: 'array', items: { type: 'object', required: ['field', 'value'], properties: { field: text, value: { type: 'integer', minimum: 0 } }, additionalProperties: false } },
      },
      additionalProperties: false,
    },
    required_fields: { type: 'array', items: { type: 'object', required: ['name', 'type'], properties: { name: text, type: text }, additionalProperties: false } },
    exceptions_list: { type: 'array' },
    actions: { type: 'array' },
  },
  additionalProperties: false,
  allOf: [
    { if: { properties: { type: { const: 'query' } } }, then: { properties: { language: { const: 'kuery' }, threshold: false } } },
    { if: { properties: { type: { const: 'eql' } } }, then: { properties: { language: { const: 'eql' }, query: { type: 'string', pattern: '^(any where |sequence )' }, threshold: false } } },
    { if: { properties: { type: { const: 'threshold' } } }, then: { required: ['threshold'], properties: { language: { const: 'kuery' } } } },
  ],
};

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(KIBANA_RULE_SCHEMA);

/** The problems of one NDJSON line as a Kibana rule to import (empty when it is fine). */
export function kibanaImportProblems(line: string): string[] {
  let rule: unknown;
  try {
    rule = JSON.parse(line);
  } catch (error) {
    return [`not JSON: ${(error as Error).message}`];
  }
  if (validate(rule)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword}`);
}

const SPACE = '[ \\t\\r\\n\\u00A0]';
const KEYWORD_AHEAD = new RegExp(`^(?:${SPACE}+(?:or|and)${SPACE}+|not${SPACE}+)`, 'i');
const SPECIAL = '\\():<>"*{}';

/**
 * Reads an unquoted KQL value as Kibana's grammar does; `*` reads as the wildcard marker `\u0000`. Throws where
 * the grammar would stop (an unescaped special character or an operator word).
 */
export function readKqlUnquoted(value: string): string {
  let out = '';
  let i = 0;
  while (i < value.length) {
    const rest = value.slice(i);
    const escapedWhitespace = /^\\([trn])/.exec(rest);
    const escapedKeyword = /^\\(or|and|not)/i.exec(rest);
    const escapedUnicode = /^\\u([0-9a-f]{4})/i.exec(rest);
    if (escapedWhitespace) {
      out += { t: '\t', r: '\r', n: '\n' }[escapedWhitespace[1] as 't' | 'r' | 'n'];
      i += 2;
    } else if (rest.startsWith('\\') && SPECIAL.includes(rest[1] ?? '')) {
      out += rest[1];
      i += 2;
    } else if (escapedUnicode) {
      out += String.fromCharCode(parseInt(escapedUnicode[1] as string, 16));
      i += 6;
    } else if (escapedKeyword) {
      out += escapedKeyword[1];
      i += 1 + (escapedKeyword[1] as string).length;
    } else if (rest[0] === '*') {
      out += '\u0000';
      i++;
    } else if (SPECIAL.includes(rest[0] as string) || KEYWORD_AHEAD.test(rest)) {
      throw new Error(`KQL stops at offset ${i} of ${JSON.stringify(value)}`);
    } else {
      out += rest[0];
      i++;
    }
  }
  return out;
}
