/** `tapwire install`: put every MCP server of this machine's hosts behind Tapwire, in one command. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveHome } from '../../pipeline/home.js';
import { parseListenAddress } from '../../collectors/http/proxyConfig.js';
import { InstallManifest, sha256 } from '../install/installManifest.js';
import { applyWrites, changeTable, configFilesFor, diffOf, HOST_SELECTION_HELP, HOST_SELECTION_OPTIONS, type PlannedWrite } from '../install/installPlan.js';
import type { HostConfigFile } from '../install/hostLocations.js';
import { proxyCommandLine, proxyConfigText, proxyService } from '../install/proxyService.js';
import { ConfigParseError, wrapServers, type ServerChange } from '../install/serverWrapping.js';
import { parseCommand, UsageError } from '../usage.js';

const DEFAULT_LISTEN = '127.0.0.1:8787';

const spec = {
  name: 'install',
  summary:
    "Finds the MCP configs of Claude Desktop, Claude Code, Cursor, VS Code and Windsurf (user and project scopes),\n" +
    'wraps every stdio server with `tapwire tap --name <its key> --`, and routes every remote (url) server through a\n' +
    'local `tapwire proxy` whose routes it writes to <home>/install/proxy.yaml, with a user service to run it.\n' +
    'Comments and formatting are kept, env and every other field untouched; the original of each file is kept in\n' +
    "<home>/install/backups and 'tapwire uninstall' restores it byte for byte. A second run changes nothing.",
  usage: 'tapwire install [--host claude-desktop|claude-code|cursor|vscode|windsurf|all] [--dry-run] [--config FILE] [--project DIR]',
  details: `Options:
${HOST_SELECTION_HELP}
  --proxy-listen A  where the proxy for remote servers listens (default ${DEFAULT_LISTEN}; loopback only)
  --no-service      do not write the proxy's user service; print the command to run it instead`,
  options: { ...HOST_SELECTION_OPTIONS, 'proxy-listen': { type: 'string' }, 'no-service': { type: 'boolean' } },
} as const;

function loopbackListen(value: string | undefined, current: string, routing: boolean): string {
  if (value === undefined || value === current) return current;
  // Configs already point at the current address; moving the proxy would strand them.
  if (routing) throw new UsageError(`--proxy-listen: host configs already use the proxy at ${current}; run 'tapwire uninstall' first to move it`);
  const { host } = parseListenAddress(value, '--proxy-listen');
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') throw new UsageError(`--proxy-listen: the proxy binds to loopback only (127.0.0.1, ::1), not '${host}'`);
  return value;
}

/** Entry point of `tapwire install`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const home = resolveHome(o.home).root;
  const manifest = new InstallManifest(home, DEFAULT_LISTEN);
  manifest.data.proxy_listen = loopbackListen(o['proxy-listen'], manifest.data.proxy_listen, manifest.data.routes.length > 0);
  const proxyBase = `http://${manifest.data.proxy_listen}`;
  const tapwireCommand = o.tapwire ?? 'tapwire';
  const configs = configFilesFor(o);
  const writes: PlannedWrite[] = [];
  const rows: { config: HostConfigFile; change: ServerChange }[] = [];
  const failures: string[] = [];
  for (const config of configs) {
    const before = readFileSync(config.file, 'utf8');
    let result;
    try {
      result = wrapServers(config, before, {
        tapwireCommand,
        ...(o.home === undefined ? {} : { home }),
        proxyBase,
        routeFor: (name, upstream) => manifest.routeFor(name, upstream).path,
      });
    } catch (error) {
      if (!(error instanceof ConfigParseError)) throw error;
      failures.push(error.message);
      continue;
    }
    rows.push(...result.changes.map((change) => ({ config, change })));
    if (result.text === before) continue;
    writes.push({ file: config.file, before, after: result.text });
    const known = manifest.data.files[config.file];
    const routed = Object.fromEntries(result.changes.flatMap((c) => (c.url ? [[c.url.to, c.url.from]] : [])));
    manifest.data.files[config.file] = known
      ? { ...known, installed_sha256: sha256(result.text), restorable: known.restorable && sha256(before) === known.installed_sha256, routed: { ...known.routed, ...routed } }
      : { host: config.host, backup: manifest.backupPath(config.file), installed_sha256: sha256(result.text), restorable: true, routed };
    if (!known) writes.unshift({ file: manifest.backupPath(config.file), before: undefined, after: before, bytes: readFileSync(config.file), backup: true });
  }
  manifest.pruneRoutes(proxyBase);
  const proxyFile = join(manifest.dir, 'proxy.yaml');
  const proxyBefore = existsSync(proxyFile) ? readFileSync(proxyFile, 'utf8') : undefined;
  const proxyAfter = manifest.data.routes.length > 0 ? proxyConfigText(manifest.data.proxy_listen, manifest.data.routes) : proxyBefore;
  if (proxyAfter !== proxyBefore) writes.push({ file: proxyFile, before: proxyBefore, after: proxyAfter });
  const service = manifest.data.routes.length > 0 && !o['no-service'] ? proxyService(proxyFile, home, false) : undefined;
  if (service) {
    const serviceBefore = existsSync(service.file) ? readFileSync(service.file, 'utf8') : undefined;
    if (serviceBefore !== service.content) writes.push({ file: service.file, before: serviceBefore, after: service.content });
  }

  process.stdout.write(changeTable(rows));
  for (const failure of failures) process.stderr.write(`tapwire install: ${failure}\n`);
  if (o['dry-run']) {
    process.stdout.write(writes.length ? `\n${diffOf(writes)}` : '\nnothing to change\n');
    process.stdout.write('(dry run: nothing was written)\n');
    return failures.length > 0 ? 1 : 0;
  }
  applyWrites(writes);
  if (writes.length > 0) manifest.save();
  const edited = writes.filter((w) => configs.some((c) => c.file === w.file)).length;
  process.stdout.write(`\n${edited === 0 ? 'nothing to change: every server is already behind Tapwire' : `edited ${edited} config file${edited === 1 ? '' : 's'}; originals kept in ${join(manifest.dir, 'backups')} (undo with 'tapwire uninstall')`}\n`);
  if (edited > 0) process.stdout.write('Restart the host applications (or reload their MCP servers) to start the taps. `tapwire` must be on their PATH (see README).\n');
  if (manifest.data.routes.length > 0) {
    process.stdout.write(`\nRemote servers go through the proxy at ${proxyBase} (routes in ${proxyFile}). Start it with:\n`);
    process.stdout.write(service?.content !== undefined ? `  ${service.next}\nor in the foreground:\n  ${proxyCommandLine(proxyFile, home)}\n` : `  ${proxyCommandLine(proxyFile, home)}\n`);
  }
  return failures.length > 0 ? 1 : 0;
}
