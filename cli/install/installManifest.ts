/**
 * What `tapwire install` changed, kept in <home>/install/: the original bytes of every config file it edited (the
 * backup `uninstall` restores byte for byte), the hash of what it wrote (to notice later hand edits), the proxied URL
 * of every remote server it routed, and the proxy routes it allocated.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One proxy route install allocated: clients reach it at <proxy><path><upstream path>. */
export interface InstalledRoute {
  name: string;
  path: string;
  upstream: string;
}

/** One config file install edited. */
export interface InstalledFile {
  host: string;
  /** The file's bytes before Tapwire first edited it. */
  backup: string;
  /** sha256 of what Tapwire last wrote. */
  installed_sha256: string;
  /** false when the file was hand-edited between two installs: uninstall then unwraps in place instead. */
  restorable: boolean;
  /** Proxied URL → the URL it replaced. */
  routed: Record<string, string>;
}

export interface Manifest {
  proxy_listen: string;
  files: Record<string, InstalledFile>;
  routes: InstalledRoute[];
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes through a temporary file and a rename, so a crash never leaves half a config behind. */
export function writeFileAtomically(file: string, bytes: Buffer | string, mode?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.tapwire-tmp-${process.pid}`;
  writeFileSync(temp, bytes, mode === undefined ? {} : { mode });
  renameSync(temp, file);
}

/** The manifest of install state in `home`. */
export class InstallManifest {
  readonly dir: string;
  readonly file: string;
  readonly data: Manifest;

  constructor(home: string, defaultListen: string) {
    this.dir = join(home, 'install');
    this.file = join(this.dir, 'manifest.json');
    this.data = existsSync(this.file) ? (JSON.parse(readFileSync(this.file, 'utf8')) as Manifest) : { proxy_listen: defaultListen, files: {}, routes: [] };
  }

  /** Where the original bytes of `configFile` are kept. */
  backupPath(configFile: string): string {
    const base = configFile.split(/[\\/]/).pop()!.replace(/^\./, '');
    return join(this.dir, 'backups', `${base}.${sha256(configFile).slice(0, 12)}.orig`);
  }

  /** The route for a remote server: reused for the same upstream, a fresh unique name and path otherwise. */
  routeFor(name: string, upstream: string): InstalledRoute {
    const existing = this.data.routes.find((r) => r.upstream === upstream && (r.name === name || r.name.startsWith(`${name}-`)));
    if (existing) return existing;
    const slug = name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'server';
    let candidate = slug;
    for (let n = 2; this.data.routes.some((r) => r.name === candidate || r.path === `/${candidate}`); n++) candidate = `${slug}-${n}`;
    const route = { name: candidate, path: `/${candidate}`, upstream };
    this.data.routes.push(route);
    return route;
  }

  /** Drops routes that no installed file's servers use any more. */
  pruneRoutes(proxyBase: string): void {
    const used = new Set(Object.values(this.data.files).flatMap((f) => Object.keys(f.routed)));
    this.data.routes = this.data.routes.filter((r) => [...used].some((url) => url.startsWith(`${proxyBase}${r.path}/`) || url === `${proxyBase}${r.path}`));
  }

  save(): void {
    writeFileAtomically(this.file, `${JSON.stringify(this.data, null, 2)}\n`, 0o600);
  }
}
