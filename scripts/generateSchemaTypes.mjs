// Regenerates pipeline/types/*.ts from the JSON Schemas so the TypeScript contracts cannot drift from them.
// `--check` exits 1 when a generated file is stale (used by the test suite).
import { readFileSync, writeFileSync } from 'node:fs';
import { compile } from 'json-schema-to-typescript';

const root = new URL('../', import.meta.url);
const targets = [
  { schema: 'pipeline/schemas/event.schema.json', out: 'pipeline/types/mcpEvent.ts', name: 'McpEvent' },
  { schema: 'pipeline/schemas/alert.schema.json', out: 'pipeline/types/mcpAlert.ts', name: 'McpAlert' },
];
const check = process.argv.includes('--check');
let stale = 0;
for (const t of targets) {
  const schema = JSON.parse(readFileSync(new URL(t.schema, root), 'utf8'));
  const ts = await compile(schema, t.name, {
    bannerComment: `/* Generated from ${t.schema} by scripts/generateSchemaTypes.mjs (npm run schema:types). Do not edit. */`,
    additionalProperties: false,
    unknownAny: true,
    ignoreMinAndMaxItems: true,
    style: { singleQuote: true },
  });
  const path = new URL(t.out, root);
  let current = '';
  try { current = readFileSync(path, 'utf8'); } catch { /* first generation */ }
  if (current === ts) continue;
  if (check) { console.error(`${t.out} is stale: run npm run schema:types`); stale++; }
  else { writeFileSync(path, ts); console.log(`wrote ${t.out}`); }
}
process.exit(stale ? 1 : 0);
