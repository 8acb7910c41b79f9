/**
 * The console's files: the page and stylesheet from console/ui/static, the compiled UI modules from
 * dist/console/ui. Only names in those two folders with a known type are served.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { packageRoot } from '../../pipeline/packagePaths.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  type: string;
  body: Buffer;
}

/** The folders assets come from, by URL prefix. */
export function assetFolders(root = packageRoot()): Record<string, string> {
  return { '/static/': join(root, 'console', 'ui', 'static'), '/app/': join(root, 'dist', 'console-ui', 'console', 'ui', 'src') };
}

/** The asset for a URL path, or undefined. */
export async function readAsset(folders: Record<string, string>, path: string): Promise<Asset | undefined> {
  const target = path === '/' ? '/static/index.html' : path;
  for (const [prefix, folder] of Object.entries(folders)) {
    if (!target.startsWith(prefix)) continue;
    const file = normalize(join(folder, target.slice(prefix.length)));
    const type = TYPES[extname(file)];
    if (!file.startsWith(folder + sep) || type === undefined) return undefined;
    try {
      return { type, body: await readFile(file) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
