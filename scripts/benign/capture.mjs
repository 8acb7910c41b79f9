#!/usr/bin/env node
// Entry point of `npm run capture:benign`: rebuilds Tapwire's own benign reference data in the cache from the
// pinned manifest (scripts/benign/servers.json). See usage() for options.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cacheLayout, defaultCacheRoot, packagePrefix } from './cacheLayout.mjs';
import { captureServers } from './captureServers.mjs';
import { installedPackages } from './docChunks.mjs';
import { docResultRecords } from './docResults.mjs';
import { buildLocalLibrary } from './localLibrary.mjs';
import { loadManifest, manifestPath } from './manifest.mjs';
import { countBy, writeJsonl } from './records.mjs';
import { runScenarios } from './runScenarios.mjs';

function usage() {
  return `usage: node scripts/benign/capture.mjs [options]
  --cache DIR          cache root (default $TAPWIRE_DATA_CACHE or ~/.cache/tapwire); output goes to DIR/benign
  --manifest FILE      server manifest (default scripts/benign/servers.json)
  --only NAME[,NAME]   capture only these manifest packages
  --node-modules DIR   use packages already installed in DIR instead of installing pinned versions
  --concurrency N      servers handled at once (default 3)
  --timeout MS         hard deadline per server listing and per request (default 45000)
  --scenario-timeout MS  hard deadline per server-call scenario (default 300000)`;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      cache: { type: 'string' }, manifest: { type: 'string' }, only: { type: 'string' }, 'node-modules': { type: 'string' },
      concurrency: { type: 'string' }, timeout: { type: 'string' }, 'scenario-timeout': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const positive = (name, fallback) => {
    if (values[name] === undefined) return fallback;
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: "${values[name]}" is not a positive integer`);
    return n;
  };
  return {
    help: values.help ?? false,
    cacheRoot: resolve(values.cache ?? defaultCacheRoot()),
    manifest: resolve(values.manifest ?? manifestPath),
    only: values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : null,
    nodeModules: values['node-modules'] ? resolve(values['node-modules']) : undefined,
    concurrency: positive('concurrency', 3),
    timeoutMs: positive('timeout', 45_000),
    scenarioTimeoutMs: positive('scenario-timeout', 300_000),
  };
}

function selectEntries(entries, only, manifest) {
  if (!only) return entries;
  const unknown = only.filter((name) => !entries.some((e) => e.name === name));
  if (unknown.length) throw new Error(`--only: not in ${manifest}: ${unknown.join(', ')}`);
  return entries.filter((e) => only.includes(e.name));
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(usage());
    return 0;
  }
  const { entries, errors } = loadManifest(options.manifest);
  for (const error of errors) console.error(error);
  const selected = selectEntries(entries, options.only, options.manifest);
  const layout = cacheLayout(options.cacheRoot);
  mkdirSync(layout.serversDir, { recursive: true });
  const log = (line) => console.error(line);

  const servers = await captureServers(selected, { ...options, layout, log });
  const serverRecords = writeJsonl(layout.serversJsonl, servers.records);

  // Documentation of every package installed for the capture (servers and their dependencies), or of the
  // --node-modules tree: the text a file-reading or fetching tool returns on a normal day.
  const nodeModulesDirs = options.nodeModules
    ? [options.nodeModules]
    : servers.packages.map((p) => join(packagePrefix(layout.serversDir, p.entry), 'node_modules'));
  const installed = installedPackages(nodeModulesDirs);
  const library = buildLocalLibrary(layout.workDir, installed);
  const scenarios = await runScenarios({
    available: new Map(servers.packages.filter((p) => servers.report[p.entry.name].status === 'captured').map((p) => [p.entry.name, p])),
    workRoot: layout.workDir,
    context: { installed, library },
    timeoutMs: options.scenarioTimeoutMs,
    requestTimeoutMs: options.timeoutMs,
    log,
  });
  const resultRecords = writeJsonl(layout.resultsJsonl, [...docResultRecords(installed), ...scenarios.records]);

  const statuses = {};
  for (const row of Object.values(servers.report)) statuses[row.status] = (statuses[row.status] ?? 0) + 1;
  const report = {
    manifest: options.manifest,
    manifestErrors: errors,
    outputs: { servers: layout.serversJsonl, results: layout.resultsJsonl },
    totals: {
      packages: selected.length, ...statuses,
      serverRecords: serverRecords.length, resultRecords: resultRecords.length,
      serverRecordsByKind: countBy(serverRecords, (r) => r.meta.kind),
      resultRecordsByOrigin: countBy(resultRecords, (r) => `${r.meta.origin}:${r.meta.style ?? r.meta.kind}`),
      docPackages: installed.length,
    },
    packages: servers.report,
    scenarios: scenarios.report,
  };
  writeFileSync(layout.report, JSON.stringify(report, null, 2) + '\n');
  console.log(`${serverRecords.length} documentation records from ${statuses.captured ?? 0}/${selected.length} servers -> ${layout.serversJsonl}`);
  console.log(`${resultRecords.length} result records -> ${layout.resultsJsonl}`);
  console.log(`report -> ${layout.report}`);
  return errors.length ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (error) => {
  console.error(error.message);
  process.exitCode = 2;
});
