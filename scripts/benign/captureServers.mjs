// Installs (or finds) each manifest server, lists it under a hard deadline, and returns its documentation
// records plus one report row per package: every failure is kept with its reason, nothing hangs.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagePrefix } from './cacheLayout.mjs';
import { installServer } from './installServer.mjs';
import { declaredLicense, withServer } from './launchServer.mjs';
import { listServer } from './listServer.mjs';
import { mapPool } from './pool.mjs';
import { countBy, listingRecords } from './records.mjs';

/**
 * Locates the package: from `nodeModules` if given (an existing install, e.g. the repo's devDependencies), else
 * by installing the pinned version into the cache.
 */
async function locate(entry, layout, nodeModules) {
  if (nodeModules) {
    const packageDir = join(nodeModules, ...entry.name.split('/'));
    return existsSync(join(packageDir, 'package.json'))
      ? { ok: true, packageDir }
      : { ok: false, reason: `not installed in ${nodeModules}` };
  }
  return installServer(layout.serversDir, entry);
}

async function captureOne(entry, { layout, nodeModules, timeoutMs, log }) {
  if (entry.skip) return { entry, row: { version: entry.version, status: 'skipped', reason: entry.skip } };
  const located = await locate(entry, layout, nodeModules);
  if (!located.ok) {
    log(`install failed  ${entry.name}: ${located.reason}`);
    return { entry, row: { version: entry.version, status: 'install_failed', reason: located.reason } };
  }
  const manifestJson = JSON.parse(readFileSync(join(located.packageDir, 'package.json'), 'utf8'));
  const pkg = { name: entry.name, version: manifestJson.version, license: declaredLicense(manifestJson) };
  const workDir = packagePrefix(join(layout.workDir, 'list'), entry);
  mkdirSync(workDir, { recursive: true });
  const listed = await withServer({ packageDir: located.packageDir, entry, workDir }, timeoutMs,
    (client) => listServer(client, timeoutMs));
  const base = { version: pkg.version, license: pkg.license };
  if (pkg.version !== entry.version) base.pinned = entry.version;
  if (!listed.ok) {
    log(`list failed     ${entry.name}: ${listed.reason}`);
    return { entry, located, pkg, row: { ...base, status: 'list_failed', reason: listed.reason, stderr: listed.stderr } };
  }
  const listing = listed.value;
  const records = listingRecords(pkg, listing);
  log(`captured        ${entry.name}@${pkg.version}: ${listing.tools.length} tools, ${records.length} records`);
  return {
    entry, located, pkg, records,
    row: {
      ...base,
      status: 'captured',
      serverInfo: listing.serverInfo,
      capabilities: Object.keys(listing.capabilities).sort(),
      listed: {
        tools: listing.tools.length, prompts: listing.prompts.length,
        resources: listing.resources.length, resourceTemplates: listing.resourceTemplates.length,
      },
      truncated: listing.truncated.length ? listing.truncated : undefined,
      listErrors: Object.keys(listing.errors).length ? listing.errors : undefined,
      nonConforming: listing.nonConforming.length ? listing.nonConforming : undefined,
      records: countBy(records, (r) => r.meta.kind),
    },
  };
}

/** Resolves to { packages: [{ entry, packageDir, pkg }], records, report } for the given manifest entries. */
export async function captureServers(entries, options) {
  const rows = await mapPool(entries, options.concurrency, async (entry) => {
    try {
      return await captureOne(entry, options);
    } catch (error) {
      // An unreadable package.json or a bin that cannot be resolved costs this package only, never the run.
      options.log(`failed          ${entry.name}: ${error.message}`);
      return { entry, row: { version: entry.version, status: 'failed', reason: error.message } };
    }
  });
  return {
    packages: rows.filter((r) => r.located?.ok).map((r) => ({ entry: r.entry, packageDir: r.located.packageDir, pkg: r.pkg })),
    records: rows.flatMap((r) => r.records ?? []),
    report: Object.fromEntries(rows.map((r) => [r.entry.name, r.row])),
  };
}
