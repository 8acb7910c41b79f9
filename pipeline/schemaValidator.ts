/** The event and alert JSON Schemas, compiled once with ajv; every producer and test checks against these. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { packageRoot } from './packagePaths.js';
import type { McpAlert } from './types/mcpAlert.js';
import type { McpEvent } from './types/mcpEvent.js';

const addFormats = addFormatsModule.default;

export interface SchemaCheck {
  valid: boolean;
  /** One line per problem: `<instance path>: <message>`. */
  errors: string[];
}

let validators: { event: ValidateFunction<McpEvent>; alert: ValidateFunction<McpAlert> } | undefined;

function compiled(): NonNullable<typeof validators> {
  if (validators) return validators;
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  const load = (file: string): object => JSON.parse(readFileSync(join(packageRoot(), 'pipeline', 'schemas', file), 'utf8')) as object;
  validators = {
    event: ajv.compile<McpEvent>(load('event.schema.json')),
    alert: ajv.compile<McpAlert>(load('alert.schema.json')),
  };
  return validators;
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` '${String((e.params as { additionalProperty: string }).additionalProperty)}'` : '';
    return `${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`;
  });
}

/** Checks one value against the MCP event schema. */
export function checkEvent(value: unknown): SchemaCheck {
  const ok = compiled().event(value);
  return { valid: ok, errors: ok ? [] : describe(compiled().event.errors) };
}

/** Checks one value against the alert schema. */
export function checkAlert(value: unknown): SchemaCheck {
  const ok = compiled().alert(value);
  return { valid: ok, errors: ok ? [] : describe(compiled().alert.errors) };
}
