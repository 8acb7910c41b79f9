// Turns captured text into records in the format of ../shared/datasets/*.jsonl. Ids are hashes of where a text
// came from (package, kind, name, location), so adding a server to the manifest never renumbers the others, and
// records are sorted so two runs over the same manifest write byte-identical files.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { schemaDescriptions } from './schemaDescriptions.mjs';

export const SERVERS_SOURCE = 'tapwire-capture/servers';
export const RESULTS_SOURCE = 'tapwire-capture/results';

function stableId(prefix, parts) {
  return `${prefix}-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16)}`;
}

function record({ idPrefix, source, field, license, toolName, server, text, meta, locator }) {
  return {
    id: stableId(idPrefix, [meta.package, meta.kind, toolName ?? '', ...locator]),
    source,
    license,
    field,
    label: 'benign',
    attack: 'none',
    tool_name: toolName ?? null,
    server,
    text,
    split: null,
    meta,
  };
}

const hasText = (value) => typeof value === 'string' && value.trim() !== '';

/** Documentation records for one server's listing (field tool_description; meta.kind says which text it is). */
export function listingRecords(pkg, listing) {
  const out = [];
  const add = (kind, toolName, text, locator, extra = {}) => {
    if (!hasText(text)) return;
    out.push(record({
      idPrefix: 'tapwire-srv', source: SERVERS_SOURCE, field: 'tool_description', license: pkg.license,
      toolName, server: pkg.name, text, locator,
      meta: { package: pkg.name, version: pkg.version, kind, ...extra },
    }));
  };
  add('server_instructions', null, listing.instructions, []);
  for (const tool of listing.tools) {
    add('tool_description', tool.name, tool.description, []);
    add('tool_title', tool.name, tool.title ?? tool.annotations?.title, []);
    for (const [schemaName, schema] of [['input', tool.inputSchema], ['output', tool.outputSchema]]) {
      for (const d of schemaDescriptions(schema)) {
        add('schema_property', tool.name, d.text, [schemaName, d.path, d.key],
          { schema: schemaName, path: d.path, property: d.property, key: d.key });
      }
    }
  }
  for (const prompt of listing.prompts) {
    add('prompt_description', prompt.name, prompt.description, []);
    for (const argument of prompt.arguments ?? []) {
      add('prompt_argument', prompt.name, argument.description, [argument.name], { argument: argument.name });
    }
  }
  for (const resource of listing.resources) {
    add('resource_description', resource.name ?? null, resource.description, [resource.uri], { uri: resource.uri });
  }
  for (const template of listing.resourceTemplates) {
    add('resource_template_description', template.name ?? null, template.description, [template.uriTemplate],
      { uriTemplate: template.uriTemplate });
  }
  return out;
}

/**
 * A returned-content record (field tool_result). `locator` must identify the text's origin uniquely within the
 * package (e.g. file path and chunk index, or scenario and call index).
 */
export function resultRecord({ pkg, toolName, server, text, locator, meta }) {
  return record({
    idPrefix: 'tapwire-res', source: RESULTS_SOURCE, field: 'tool_result', license: pkg.license,
    toolName, server: server ?? pkg.name, text, locator,
    meta: { package: pkg.name, version: pkg.version, kind: 'tool_result', ...meta },
  });
}

/** Sorts by package then id (deterministic), drops exact repeats of an id, and writes one JSON object per line. */
export function writeJsonl(path, records) {
  const byId = new Map();
  for (const r of records) if (!byId.has(r.id)) byId.set(r.id, r);
  const key = (r) => `${r.meta.package}\u0000${r.id}`;
  const sorted = [...byId.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  writeFileSync(path, sorted.map((r) => JSON.stringify(r)).join('\n') + (sorted.length ? '\n' : ''));
  return sorted;
}

/** Counts records per key, keys sorted (for reports). */
export function countBy(records, key) {
  const counts = {};
  for (const r of records) counts[key(r)] = (counts[key(r)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
