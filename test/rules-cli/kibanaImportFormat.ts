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
    // Kibana takes KQL (`kuery`) or Lucene for query and threshold rules: the exporter writes Lucene, the shipped
    // promotion rule (deploy/kibana) is KQL.
    language: { enum: ['kuery', 'lucene', 'eql'] },
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
    { if: { properties: { type: { const: 'query' } } }, then: { properties: { language: { enum: ['kuery', 'lucene'] }, threshold: false } } },
    { if: { properties: { type: { const: 'eql' } } }, then: { properties: { language: { const: 'eql' }, query: { type: 'string', pattern: '^(any where |sequence )' }, threshold: false } } },
    { if: { properties: { type: { const: 'threshold' } } }, then: { required: ['threshold'], properties: { language: { enum: ['kuery', 'lucene'] } } } },
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
