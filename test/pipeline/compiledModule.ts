/** Locates compiled modules under dist/ for tests whose child processes run the built code. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../pipeline/packagePaths.js';

/** The file URL of dist/<path>.js for the source file `path` (e.g. pipeline/storeSync.ts); throws if it was never built. */
export function compiledModule(path: string): string {
  const compiled = join(packageRoot(), 'dist', path.replace(/\.ts$/, '.js'));
  if (!existsSync(compiled)) {
    throw new Error(`${compiled} does not exist: run \`npm run build\` before this test (its child processes run dist/)`);
  }
  return pathToFileURL(compiled).href;
}
