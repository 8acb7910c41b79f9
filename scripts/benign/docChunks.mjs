// Benign returned-content text from the documentation and files that ship inside installed npm packages, cut
// into pieces the size of a fetched page or a file read. READMEs are full of benign imperatives ("You must run
// npm install before ..."), which makes them the realistic hard negatives for injected-result detection.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';

const MIN_CHARS = 200;
const MAX_CHARS = 3000;
const MAX_FILE_BYTES = 2 * 1024 * 1024;
const DOC_DIRS = ['docs', 'doc', 'documentation', 'guides'];
const DOC_DIR_DEPTH = 3;
const CODE_SHARE = 0.5;
const JSON_SHARE = 0.3;

/** Every installed package (name@version once) below the given node_modules directories, sorted by name. */
export function installedPackages(nodeModulesDirs) {
  const byKey = new Map();
  const visit = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const full = join(dir, name);
      if (name.startsWith('@')) {
        visit(full);
        continue;
      }
      const manifest = join(full, 'package.json');
      if (!existsSync(manifest)) continue;
      let pkg;
      try {
        pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      } catch {
        continue;
      }
      if (typeof pkg.name !== 'string' || typeof pkg.version !== 'string') continue;
      const key = `${pkg.name}@${pkg.version}`;
      if (!byKey.has(key)) byKey.set(key, { dir: full, json: pkg });
      visit(join(full, 'node_modules'));
    }
  };
  for (const dir of nodeModulesDirs) visit(dir);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

function styleOf(file) {
  const name = basename(file).toLowerCase();
  if (/^(changelog|changes|history|releases?)([._-]|$)/.test(name)) return 'changelog';
  if (name === 'package.json') return 'json';
  if (/\.(d\.ts|ts|js|mjs|cjs)$/.test(name)) return 'code';
  return 'markdown';
}

function markdownFiles(dir, depth) {
  if (depth < 0 || !existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    let stat;
    try {
      stat = statSync(full);
    } catch {
      continue;
    }
    if (stat.isDirectory() && name !== 'node_modules') out.push(...markdownFiles(full, depth - 1));
    else if (stat.isFile() && /\.(md|markdown|txt)$/i.test(name) && stat.size <= MAX_FILE_BYTES) out.push(full);
  }
  return out;
}

/** The type declarations or main script a package points at: what a code-reading tool would return. */
function codeFile(dir, json) {
  for (const candidate of [json.types, json.typings, json.main, 'index.d.ts', 'index.js']) {
    if (typeof candidate !== 'string') continue;
    for (const path of [join(dir, candidate), join(dir, `${candidate}.js`)]) {
      if (existsSync(path) && statSync(path).isFile() && extname(path) !== '.json' && statSync(path).size <= MAX_FILE_BYTES) {
        return path;
      }
    }
  }
  return null;
}

/** The files of one package worth returning as tool results, in a fixed order. */
export function packageTextFiles({ dir, json }) {
  const rootDocs = readdirSync(dir).sort()
    .filter((n) => /\.(md|markdown)$/i.test(n) && !/^licen[cs]e/i.test(n))
    .map((n) => join(dir, n));
  const docDirs = DOC_DIRS.flatMap((d) => markdownFiles(join(dir, d), DOC_DIR_DEPTH));
  // Code and package.json from a fixed share of packages only: every package has them, and prose is what a
  // reader of fetched pages and files mostly sees.
  const code = unitHash(`code:${json.name}`) < CODE_SHARE ? codeFile(dir, json) : null;
  const manifest = unitHash(`json:${json.name}`) < JSON_SHARE ? [join(dir, 'package.json')] : [];
  return [...rootDocs, ...docDirs, ...(code ? [code] : []), ...manifest];
}

/** A stable number in [0, 1) from a string: varies chunk sizes per file without randomness. */
function unitHash(text) {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

/** Cuts text into blocks at markdown headings (docs) or blank lines (code, JSON), then splits overlong blocks. */
function blocks(text, style) {
  const lines = text.split('\n');
  const out = [];
  let current = [];
  const flush = () => {
    if (current.length) out.push(current.join('\n'));
    current = [];
  };
  for (const line of lines) {
    const boundary = style === 'markdown' || style === 'changelog' ? /^#{1,4}\s/.test(line) : line.trim() === '';
    if (boundary) flush();
    current.push(line);
  }
  flush();
  // Overlong blocks are cut at line ends; a single line longer than the limit (minified code) becomes its own piece
  // rather than being shortened, so every chunk stays a verbatim excerpt of the file.
  return out.flatMap((block) => {
    if (block.length <= MAX_CHARS) return [block];
    const pieces = [];
    let piece = null;
    for (const line of block.split('\n')) {
      if (piece !== null && piece.length + line.length + 1 > MAX_CHARS) {
        pieces.push(piece);
        piece = null;
      }
      piece = piece === null ? line : `${piece}\n${line}`;
    }
    if (piece !== null) pieces.push(piece);
    return pieces;
  });
}

/** Chunks of MIN..MAX chars; the target size per file is drawn from a hash of its path (some short, some long). */
export function chunkText(text, style, seed) {
  const target = 400 + Math.floor(unitHash(seed) * 2200);
  const chunks = [];
  let current = '';
  for (const block of blocks(text.replace(/\r\n/g, '\n'), style)) {
    if (current && current.length + block.length + 1 > MAX_CHARS) {
      chunks.push(current);
      current = '';
    }
    current = current ? `${current}\n${block}` : block;
    if (current.length >= target) {
      chunks.push(current);
      current = '';
    }
  }
  if (current) chunks.push(current);
  // A chunk far over the limit is one giant line (minified code, inlined data): no tool returns that as prose.
  return chunks.map((c) => c.trim()).filter((c) => c.length >= MIN_CHARS && c.length <= 2 * MAX_CHARS);
}

/** Up to `limit` items spread evenly over the list (the start, middle and end of a README all differ in style). */
export function spread(items, limit) {
  if (items.length <= limit) return items;
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]);
}

/**
 * Yields { pkg, file, style, chunkIndex, text } for one package: at most `perPackage` chunks, with at most one
 * piece of code and one package.json so prose stays the majority.
 */
export function* packageChunks(installed, perPackage) {
  const picked = [];
  for (const file of packageTextFiles(installed)) {
    const style = styleOf(file);
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (text.includes('\u0000')) continue;
    const rel = relative(installed.dir, file);
    const chunks = chunkText(text, style, `${installed.json.name}/${rel}`);
    const limit = style === 'code' || style === 'json' ? 1 : perPackage;
    spread(chunks.map((text, chunkIndex) => ({ file: rel, style, chunkIndex, text })), limit)
      .forEach((c) => picked.push(c));
  }
  const prose = picked.filter((c) => c.style === 'markdown' || c.style === 'changelog');
  const other = picked.filter((c) => c.style === 'code' || c.style === 'json');
  yield* spread(prose, Math.max(0, perPackage - other.length));
  yield* other;
}
