// Installs one pinned server package into its own npm prefix in the cache. Install scripts never run: several MCP
// servers download browsers or native binaries at install time, which this capture neither needs nor may reach.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagePrefix } from './cacheLayout.mjs';

const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;

export function installedPackageDir(prefix, name) {
  return join(prefix, 'node_modules', ...name.split('/'));
}

function installedVersion(packageDir) {
  const file = join(packageDir, 'package.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')).version ?? null;
  } catch {
    return null;
  }
}

function runNpm(args) {
  return new Promise((resolve) => {
    execFile('npm', args, { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => resolve({ error, stdout, stderr }));
  });
}

/** Resolves to { ok: true, packageDir, cached } or { ok: false, reason }; never rejects. */
export async function installServer(serversDir, entry) {
  const prefix = packagePrefix(serversDir, entry);
  const packageDir = installedPackageDir(prefix, entry.name);
  if (installedVersion(packageDir) === entry.version) return { ok: true, packageDir, cached: true };
  mkdirSync(prefix, { recursive: true });
  // A package.json of its own stops npm from walking up into whatever project encloses the cache.
  writeFileSync(join(prefix, 'package.json'), '{ "private": true }\n');
  const { error, stderr } = await runNpm([
    'install', '--prefix', prefix, '--ignore-scripts', '--no-audit', '--no-fund', '--no-save', '--loglevel=error',
    `${entry.name}@${entry.version}`,
  ]);
  if (error) {
    const detail = (stderr || error.message).trim().split('\n').slice(-4).join(' | ');
    return { ok: false, reason: `npm install failed: ${error.killed ? 'timed out' : detail}` };
  }
  const version = installedVersion(packageDir);
  if (version !== entry.version) return { ok: false, reason: `npm install left version ${version}, expected ${entry.version}` };
  return { ok: true, packageDir, cached: false };
}
