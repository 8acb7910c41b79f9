import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAlert, checkEvent } from '../../pipeline/schemaValidator.js';
import { REPO_ROOT } from '../support/tapwireCli.js';

describe('the event and alert contracts', () => {
  it('has TypeScript types generated from the current JSON Schemas', () => {
    // Exits non-zero (and the test fails) when a schema changed without `npm run schema:types`.
    expect(() => execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'generateSchemaTypes.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('names the failing field of an invalid event or alert', () => {
    expect(checkEvent({ '@timestamp': 'now' }).errors).toEqual(expect.arrayContaining(["/: must have required property 'mcp'", '/@timestamp: must match format "date-time"']));
    expect(checkAlert({ rule: { id: 'x' } }).errors).toEqual(expect.arrayContaining(["/rule: must have required property 'name'"]));
  });
});
