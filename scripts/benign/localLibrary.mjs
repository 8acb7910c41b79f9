// A small local folder of real package documentation (README/CHANGELOG copies) that the file-reading servers are
// pointed at, so their real outputs (listings, trees, reads, searches) are built from benign third-party text.
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { spread } from './docChunks.mjs';

const LIBRARY_PACKAGES = 80;
const MAX_COPY_BYTES = 256 * 1024;
// Fixed times keep listings that print modification times identical from run to run.
const FIXED_TIME = new Date('2026-01-01T00:00:00Z');

/** Rebuilds workDir/library from the installed packages; returns { root, files: [absolute paths] }. */
export function buildLocalLibrary(workDir, installed) {
  const root = join(workDir, 'library');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const withReadme = installed.filter((p) => existsSync(join(p.dir, 'README.md')));
  const files = [];
  for (const { dir, json } of spread(withReadme, LIBRARY_PACKAGES)) {
    const target = join(root, json.name.replace(/^@/, '').replace(/\//g, '-'));
    mkdirSync(target, { recursive: true });
    for (const name of ['README.md', 'CHANGELOG.md', 'package.json']) {
      const source = join(dir, name);
      if (!existsSync(source) || statSync(source).size > MAX_COPY_BYTES) continue;
      copyFileSync(source, join(target, name));
      utimesSync(join(target, name), FIXED_TIME, FIXED_TIME);
      files.push(join(target, name));
    }
    utimesSync(target, FIXED_TIME, FIXED_TIME);
  }
  return { root, files };
}
