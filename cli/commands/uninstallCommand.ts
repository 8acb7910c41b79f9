/** `tapwire uninstall`: undo `tapwire install` — every config file back to its original bytes, the proxy routes gone. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveHome } from '../../pipeline/home.js';
import { InstallManifest, sha256 } from '../install/installManifest.js';
import { applyWrites, changeTable, configFilesFor, diffOf, HOST_SELECTION_HELP, HOST_SELECTION_OPTIONS, selectedHosts, type PlannedWrite } from '../install/installPlan.js';
import { explicitConfigFile, hostConfigFiles, type HostConfigFile, type HostName } from '../install/hostLocations.js';
import { proxyConfigText, proxyService } from '../install/proxyService.js';
import { unwrapServers, type ServerChange } from '../install/serverWrapping.js';
import { parseCommand } from '../usage.js';

const spec = {
  name: 'uninstall',
  summary:
    "Undoes 'tapwire install': each config file it edited gets its original bytes back from the backup. A file edited\n" +
    'by hand since the install is unwrapped in place instead (servers back to their own command and URL, the rest\n' +
    'of the edit kept) and its backup stays. Proxy routes no config uses any more are removed, with the service.',
  usage: 'tapwire uninstall [--host claude-desktop|claude-code|cursor|vscode|windsurf|all] [--dry-run] [--config FILE]',
  details: `Options:
${HOST_SELECTION_HELP}`,
  options: HOST_SELECTION_OPTIONS,
} as const;

/** The config files install edited that this run covers, with their host format. */
function installedConfigs(manifest: InstallManifest, options: { host?: string; config?: string; project?: string }): HostConfigFile[] {
  if (options.config !== undefined) return configFilesFor(options).filter((c) => manifest.data.files[c.file] !== undefined);
  const hosts = new Set<string>(selectedHosts(options.host));
  return Object.entries(manifest.data.files)
    .filter(([, entry]) => hosts.has(entry.host))
    .map(([file, entry]) => hostConfigFiles(entry.host as HostName, options.project ?? process.cwd()).find((c) => c.file === file) ?? explicitConfigFile(file, entry.host as HostName, undefined));
}

/** Entry point of `tapwire uninstall`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const home = resolveHome(o.home).root;
  const manifest = new InstallManifest(home, '');
  const proxyBase = `http://${manifest.data.proxy_listen}`;
  const writes: PlannedWrite[] = [];
  const rows: { config: HostConfigFile; change: ServerChange }[] = [];
  const notes: string[] = [];
  for (const config of installedConfigs(manifest, o)) {
    const entry = manifest.data.files[config.file]!;
    const unwrap = (file: HostConfigFile, text: string): ReturnType<typeof unwrapServers> => unwrapServers(file, text, { tapwireCommand: o.tapwire ?? 'tapwire', upstreamOf: (url) => entry.routed[url] });
    delete manifest.data.files[config.file];
    if (!existsSync(config.file)) {
      notes.push(`${config.file} no longer exists; its original is kept in ${entry.backup}`);
      continue;
    }
    const current = readFileSync(config.file);
    const original = readFileSync(entry.backup);
    if (entry.restorable && sha256(current) === entry.installed_sha256) {
      writes.push({ file: config.file, before: current.toString('utf8'), after: original.toString('utf8'), bytes: original });
      writes.push({ file: entry.backup, before: undefined, after: undefined, backup: true });
      // Servers that were already wrapped before the install stay so: report only what the restore undoes.
      const wrappedBefore = new Set(unwrap(config, original.toString('utf8')).changes.map((c) => `${c.scope}/${c.name}`));
      rows.push(...unwrap(config, current.toString('utf8')).changes.filter((c) => !wrappedBefore.has(`${c.scope}/${c.name}`)).map((change) => ({ config, change })));
      continue;
    }
    const { text, changes } = unwrap(config, current.toString('utf8'));
    rows.push(...changes.map((change) => ({ config, change: { ...change, note: 'edited since install: unwrapped in place' } })));
    writes.push({ file: config.file, before: current.toString('utf8'), after: text });
    notes.push(`${config.file} was edited after 'tapwire install': unwrapped in place rather than restored; the original stays in ${entry.backup}`);
  }
  manifest.pruneRoutes(proxyBase);
  const proxyFile = join(manifest.dir, 'proxy.yaml');
  if (existsSync(proxyFile)) {
    const before = readFileSync(proxyFile, 'utf8');
    const after = manifest.data.routes.length > 0 ? proxyConfigText(manifest.data.proxy_listen, manifest.data.routes) : undefined;
    if (after !== before) writes.push({ file: proxyFile, before, after });
  }
  const service = manifest.data.routes.length === 0 ? proxyService(proxyFile, home, true) : undefined;
  if (service && existsSync(service.file)) writes.push({ file: service.file, before: readFileSync(service.file, 'utf8'), after: undefined });

  process.stdout.write(rows.length || writes.length ? changeTable(rows) : `nothing to undo: no config file covered by this run was edited by 'tapwire install' (state: ${resolve(manifest.file)})\n`);
  for (const note of notes) process.stdout.write(`note: ${note}\n`);
  if (o['dry-run']) {
    process.stdout.write(writes.length ? `\n${diffOf(writes)}(dry run: nothing was written)\n` : '(dry run: nothing was written)\n');
    return 0;
  }
  applyWrites(writes);
  if (writes.length > 0) manifest.save();
  if (service && writes.some((w) => w.file === service.file)) process.stdout.write(`The proxy's user service was removed; stop it with: ${service.next}\n`);
  return 0;
}
