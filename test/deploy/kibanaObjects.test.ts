import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { DETECTION_RULE_FILES, KIBANA_CONTENT_DIR, SAVED_OBJECT_FILES } from '../../cli/kibanaImporter.js';
import { packageRoot } from '../../pipeline/packagePaths.js';
import { ALERT_FIELDS, MESSAGE_FIELDS } from '../elasticsearch/mappedFields.js';
import { kibanaImportProblems } from '../rules-cli/kibanaImportFormat.js';

interface SavedObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references: { type: string; id: string; name: string }[];
  coreMigrationVersion: string;
  typeMigrationVersion: string;
}

/** Each line of a shipped NDJSON file, parsed, with where it came from. */
function readLines(name: string): { where: string; value: unknown }[] {
  const text = readFileSync(join(KIBANA_CONTENT_DIR, name), 'utf8');
  expect(text.endsWith('\n'), `${name} ends with a newline`).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line, i) => ({ where: `${name}:${i + 1}`, value: JSON.parse(line) as unknown }));
}

const files = SAVED_OBJECT_FILES.map((name) => ({ name, objects: readLines(name).map((l) => ({ where: l.where, object: l.value as SavedObject })) }));
const all = files.flatMap((f) => f.objects);
const byKey = new Map(all.map(({ object }) => [`${object.type}/${object.id}`, object]));
const ofType = (type: string): SavedObject[] => all.filter(({ object }) => object.type === type).map(({ object }) => object);

/** The fields a data view's pattern covers, with their types. */
function fieldsOf(dataViewId: string): Map<string, string> {
  const title = byKey.get(`index-pattern/${dataViewId}`)?.attributes.title;
  if (title === 'logs-mcp.messages-*') return MESSAGE_FIELDS;
  if (title === 'logs-mcp.alerts-*') return ALERT_FIELDS;
  if (title === 'logs-mcp.*') return new Map([...MESSAGE_FIELDS, ...ALERT_FIELDS]);
  throw new Error(`data view ${dataViewId} has an unexpected pattern ${String(title)}`);
}

/** Field names a KQL query compares (`field: value`, `field >= n`). */
function kqlFields(query: string): string[] {
  return [...query.matchAll(/([A-Za-z_@][\w.@]*)\s*(?::|>=|<=|>|<)/g)].map((m) => m[1]!);
}

/** Keys under which a Lens visualization names the columns it shows. */
const COLUMN_KEYS = new Set(['metricAccessor', 'xAccessor', 'splitAccessor', 'accessors', 'primaryGroups', 'metrics', 'columnId']);

/** Every column id a visualization state refers to. */
function columnReferences(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(columnReferences);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) => (COLUMN_KEYS.has(key) ? [value].flat().filter((v): v is string => typeof v === 'string') : columnReferences(value)));
}

/** Types a Lens bucket or metric can aggregate. */
const AGGREGATABLE = new Set(['keyword', 'constant_keyword', 'long', 'float', 'date', 'ip', 'boolean']);

describe('Kibana saved objects (deploy/kibana)', () => {
  it('are one well-formed saved object per line, with unique ids', () => {
    for (const { where, object } of all) {
      expect(Object.keys(object).sort(), where).toEqual(['attributes', 'coreMigrationVersion', 'id', 'managed', 'references', 'type', 'typeMigrationVersion']);
      expect(['index-pattern', 'search', 'lens', 'dashboard'], where).toContain(object.type);
      expect(object.id, where).toMatch(/^tapwire-[a-z0-9-]+$/);
      expect(object.coreMigrationVersion, where).toMatch(/^8\.\d+\.\d+$/);
      expect(object.typeMigrationVersion, where).toMatch(/^\d+\.\d+\.\d+$/);
      expect(typeof object.attributes.title, where).toBe('string');
      for (const reference of object.references) expect(Object.keys(reference).sort(), where).toEqual(['id', 'name', 'type']);
    }
    expect(new Set(all.map(({ object }) => object.id)).size).toBe(all.length);
    expect(ofType('index-pattern').map((d) => d.attributes.title).sort()).toEqual(['logs-mcp.*', 'logs-mcp.alerts-*', 'logs-mcp.messages-*']);
    expect(ofType('dashboard').map((d) => d.attributes.title)).toEqual(['Tapwire: MCP overview', 'Tapwire: inventory and tool usage', 'Tapwire: alerts']);
  });

  it('reference only objects of the same or an earlier file, so the import order resolves them', () => {
    const seen = new Set<string>();
    for (const file of files) {
      for (const { object } of file.objects) seen.add(`${object.type}/${object.id}`);
      for (const { where, object } of file.objects) {
        for (const reference of object.references) expect(seen.has(`${reference.type}/${reference.id}`), `${where}: ${reference.type}/${reference.id}`).toBe(true);
      }
    }
  });

  it('name every reference their attributes use, and use every reference they carry', () => {
    for (const { where, object } of all) {
      const names = new Set(object.references.map((r) => r.name));
      const used: string[] = [];
      if (object.type === 'search') {
        const source = JSON.parse((object.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as { indexRefName: string };
        used.push(source.indexRefName);
      }
      if (object.type === 'lens') {
        const layers = (object.attributes.state as { datasourceStates: { formBased: { layers: Record<string, unknown> } } }).datasourceStates.formBased.layers;
        used.push(...Object.keys(layers).map((layerId) => `indexpattern-datasource-layer-${layerId}`));
      }
      if (object.type === 'dashboard') {
        const panels = JSON.parse(object.attributes.panelsJSON as string) as { panelIndex: string; panelRefName: string; type: string }[];
        for (const panel of panels) {
          const name = `${panel.panelIndex}:${panel.panelRefName}`;
          used.push(name);
          expect(object.references.find((r) => r.name === name)?.type, `${where}: panel ${panel.panelIndex}`).toBe(panel.type);
        }
      }
      expect(used.sort(), where).toEqual([...names].sort());
    }
  });

  it('lay dashboard panels out on the 48-column grid without overlaps', () => {
    for (const dashboard of ofType('dashboard')) {
      const panels = JSON.parse(dashboard.attributes.panelsJSON as string) as { panelIndex: string; gridData: { x: number; y: number; w: number; h: number; i: string } }[];
      const cells = new Set<string>();
      for (const { panelIndex, gridData: g } of panels) {
        expect(g.i, dashboard.id).toBe(panelIndex);
        expect(g.x + g.w, `${dashboard.id} panel ${panelIndex}`).toBeLessThanOrEqual(48);
        for (let x = g.x; x < g.x + g.w; x++) {
          for (let y = g.y; y < g.y + g.h; y++) {
            expect(cells.has(`${x},${y}`), `${dashboard.id} panel ${panelIndex} overlaps at ${x},${y}`).toBe(false);
            cells.add(`${x},${y}`);
          }
        }
      }
      expect(JSON.parse(dashboard.attributes.optionsJSON as string)).toMatchObject({ useMargins: true });
    }
  });

  it('chart and query only fields the data streams map, with types Lens can aggregate', () => {
    const problems: string[] = [];
    for (const lens of ofType('lens')) {
      const state = lens.attributes.state as {
        query: { query: string };
        visualization: Record<string, unknown>;
        datasourceStates: { formBased: { layers: Record<string, { columns: Record<string, { sourceField: string; operationType: string }>; columnOrder: string[] }> } };
      };
      for (const [layerId, layer] of Object.entries(state.datasourceStates.formBased.layers)) {
        const dataView = lens.references.find((r) => r.name === `indexpattern-datasource-layer-${layerId}`)!.id;
        const fields = fieldsOf(dataView);
        expect(layer.columnOrder.sort(), lens.id).toEqual(Object.keys(layer.columns).sort());
        for (const [columnId, column] of Object.entries(layer.columns)) {
          if (column.sourceField === '___records___') continue;
          const type = fields.get(column.sourceField);
          if (type === undefined || !AGGREGATABLE.has(type)) problems.push(`${lens.id} column ${columnId}: ${column.sourceField} is ${type ?? 'not mapped'}`);
        }
        for (const id of columnReferences(state.visualization)) {
          if (!(id in layer.columns)) problems.push(`${lens.id}: visualization refers to missing column ${id}`);
        }
        for (const field of kqlFields(state.query.query)) if (!fields.has(field)) problems.push(`${lens.id}: query field ${field} is not mapped`);
      }
    }
    for (const search of ofType('search')) {
      const fields = fieldsOf(search.references[0]!.id);
      const source = JSON.parse((search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as { query: { query: string; language: string } };
      expect(source.query.language).toBe('kuery');
      for (const field of [...(search.attributes.columns as string[]), ...kqlFields(source.query.query)]) {
        if (!fields.has(field)) problems.push(`${search.id}: ${field} is not mapped`);
      }
    }
    expect(problems).toEqual([]);
  });
});

/**
 * What a promotion rule adds to the import format the rule exporter's tests check (kibanaImportFormat.ts): severity and
 * risk taken from the alert, its rule name and timestamp overridden, and the setup and triage notes.
 */
const PROMOTION_FIELDS_SCHEMA = {
  type: 'object',
  required: ['severity_mapping', 'risk_score_mapping', 'rule_name_override', 'timestamp_override'],
  properties: {
    severity_mapping: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'operator', 'severity', 'value'],
        properties: { field: { type: 'string' }, operator: { const: 'equals' }, severity: { enum: ['low', 'medium', 'high', 'critical'] }, value: { type: 'string' } },
        additionalProperties: false,
      },
    },
    risk_score_mapping: {
      type: 'array',
      maxItems: 1,
      items: { type: 'object', required: ['field', 'operator', 'value'], properties: { field: { type: 'string' }, operator: { const: 'equals' }, value: { type: 'string' } }, additionalProperties: false },
    },
    rule_name_override: { type: 'string', minLength: 1 },
    timestamp_override: { type: 'string', minLength: 1 },
    timestamp_override_fallback_disabled: { type: 'boolean' },
    setup: { type: 'string' },
    note: { type: 'string' },
  },
};
const PROMOTION_ONLY = ['rule_name_override', 'timestamp_override', 'timestamp_override_fallback_disabled', 'setup', 'note'];

describe('the detection rule (deploy/kibana/detection-rules.ndjson)', () => {
  const rules = DETECTION_RULE_FILES.flatMap((name) => readLines(name));
  const rule = rules[0]!.value as Record<string, unknown> & {
    severity_mapping: { field: string; severity: string; value: string }[];
    risk_score_mapping: { field: string }[];
    required_fields: { name: string; type: string }[];
  };

  it('has every field the import API requires, with valid values', () => {
    expect(rules).toHaveLength(1);
    const common = Object.fromEntries(Object.entries(rule).filter(([key]) => !PROMOTION_ONLY.includes(key)));
    expect(kibanaImportProblems(JSON.stringify(common))).toEqual([]);
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(PROMOTION_FIELDS_SCHEMA);
    expect(validate(rule) ? [] : validate.errors).toEqual([]);
    expect(rule.rule_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("promotes Tapwire's alert documents with their own severity, risk and rule name", () => {
    expect(rule.index).toEqual(['logs-mcp.alerts-*']);
    expect(rule.query).toBe('event.kind: "alert" and data_stream.dataset: "mcp.alerts"');
    expect(rule.rule_name_override).toBe('rule.name');
    expect(rule.timestamp_override).toBe('event.ingested');
    const alertSchema = JSON.parse(readFileSync(join(packageRoot(), 'pipeline', 'schemas', 'alert.schema.json'), 'utf8')) as { properties: { event: { properties: { severity: { enum: number[] } } } } };
    const bands = alertSchema.properties.event.properties.severity.enum;
    expect(rule.severity_mapping.map((m) => [m.field, m.value, m.severity])).toEqual(bands.map((band, i) => ['event.severity', String(band), ['low', 'medium', 'high', 'critical'][i]]));
    expect(rule.risk_score_mapping.map((m) => m.field)).toEqual(['event.risk_score']);
  });

  it('reads only fields the alerts data stream maps, with the types it declares', () => {
    const read = ['event.kind', 'data_stream.dataset', 'event.severity', 'event.risk_score', 'rule.name', 'event.ingested'];
    expect(rule.required_fields.map((f) => f.name).sort()).toEqual([...read].sort());
    for (const field of rule.required_fields) expect(ALERT_FIELDS.get(field.name), field.name).toBe(field.type);
  });
});
