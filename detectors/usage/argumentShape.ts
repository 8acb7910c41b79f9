/**
 * The shape of a tool call's arguments, as a usage baseline remembers it: which keys it used, which URL
 * hosts and filesystem roots its values point at, and how long its strings are. Values themselves are
 * never kept: a shape generalizes ("reads under /home/alice") where a value would only memorize.
 */
import { posix } from 'node:path';

/** What one call's arguments look like. */
export interface ArgumentShape {
  /** Key paths, nested as `a.b`, inside arrays as `a[].b`; in first-seen order. */
  keys: string[];
  /** Lower-case hosts of every URL in any string value. */
  hosts: string[];
  /** Roots of the values that are filesystem paths (see pathRoot). */
  pathRoots: string[];
  /** The longest string under each key path. */
  lengths: Record<string, number>;
}

const MAX_DEPTH = 4;
const MAX_LEAVES = 256;
const MAX_PATH_CHARS = 4096;
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s"'<>`]+/gi;
const WINDOWS_PATH = /^[a-z]:[\\/]/i;

/**
 * The root of a filesystem path: its first `depth` directories, without the file name.
 * `/home/alice/notes/a.md` → `/home/alice`, `~/.ssh/id_rsa` → `~/.ssh`, `../../etc/passwd` → `../..`,
 * `C:\Users\Bob\x.txt` → `c:/users/bob`. Undefined when the value is not a path.
 */
export function pathRoot(value: string, depth: number): string | undefined {
  if (!mayBePath(value)) return undefined;
  const text = value.trim();
  if (text.length === 0 || text.length > MAX_PATH_CHARS || /[\r\n]/.test(text)) return undefined;
  let prefix: string;
  let rest: string;
  if (text.toLowerCase().startsWith('file://')) {
    const parsed = URL.parse(text);
    if (!parsed) return undefined;
    prefix = '';
    rest = decodeURIComponent(parsed.pathname);
  } else if (WINDOWS_PATH.test(text)) {
    prefix = text.slice(0, 2).toLowerCase();
    rest = text.slice(2).replace(/\\/g, '/').toLowerCase();
  } else if (text.startsWith('~/') || text === '~') {
    prefix = '~';
    rest = text.slice(1);
  } else if (text.startsWith('/')) {
    prefix = '';
    rest = text;
  } else if (text.startsWith('./') || text.startsWith('../')) {
    prefix = '.';
    rest = text;
  } else {
    return undefined;
  }
  const normalized = posix.normalize(rest);
  const segments = normalized.split('/').filter((s) => s !== '' && s !== '.');
  const directories = normalized.endsWith('/') ? segments : segments.slice(0, -1);
  const kept = directories.slice(0, depth);
  if (prefix === '.') return kept.length === 0 ? '.' : kept.join('/');
  return `${prefix}/${kept.join('/')}`;
}

/**
 * Whether pathRoot can find a path in `value`, from its first character: most argument strings are words or
 * identifiers, which this rejects without trimming or matching them. Leading whitespace or a non-ASCII character
 * leaves the question to pathRoot.
 */
function mayBePath(value: string): boolean {
  const first = value.charCodeAt(0);
  if (first <= 0x20 || first >= 0x7f) return true;
  if (first === 0x2f || first === 0x7e || first === 0x2e) return true; // '/', '~', '.'
  const letter = (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7a;
  return letter && ((first | 0x20) === 0x66 || value.charCodeAt(1) === 0x3a); // 'file://', or a drive 'c:'
}

/** The lower-case host of every URL in `text` (file: URLs are paths, not hosts). */
export function urlHosts(text: string): string[] {
  const hosts: string[] = [];
  // Every URL the pattern takes holds '://': a string without one needs no regex pass.
  if (!text.includes('://')) return hosts;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const parsed = URL.parse(match[0]);
    if (parsed && parsed.protocol !== 'file:' && parsed.hostname !== '') hosts.push(parsed.hostname.toLowerCase());
  }
  return hosts;
}

/** The shape of `args` (a tools/call arguments object); `pathRootDepth` directories make a path's root. */
export function argumentShape(args: unknown, pathRootDepth: number): ArgumentShape {
  const keys = new Set<string>();
  const hosts = new Set<string>();
  const roots = new Set<string>();
  const lengths: Record<string, number> = {};
  let leaves = 0;
  const visit = (value: unknown, path: string, depth: number): void => {
    if (leaves >= MAX_LEAVES) return;
    if (typeof value === 'string') {
      leaves++;
      if (path !== '') lengths[path] = Math.max(lengths[path] ?? 0, value.length);
      for (const host of urlHosts(value)) hosts.add(host);
      const root = pathRoot(value, pathRootDepth);
      if (root !== undefined) roots.add(root);
      return;
    }
    if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) {
      leaves++;
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) visit(item, `${path}[]`, depth + 1);
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      const child = path === '' ? key : `${path}.${key}`;
      keys.add(child);
      visit(item, child, depth + 1);
    }
  };
  visit(args, '', 0);
  return { keys: [...keys], hosts: [...hosts], pathRoots: [...roots], lengths };
}
