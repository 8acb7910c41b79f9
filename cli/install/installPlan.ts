/**
 * What install and uninstall share: which host config files a run covers, the planned writes (shown as a unified
 * diff by --dry-run, applied otherwise), and the summary of what happened to each server.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { renderTable } from '../commandOutput.js';
import { UsageError } from '../usage.js';
import { explicitConfigFile, hostConfigFiles, HOSTS, type HostConfigFile, type HostName } from './hostLocations.js';
import { writeFileAtomically } from './installManifest.js';
import type { ServerChange } from './serverWrapping.js';

/** The options install and uninstall both take. */
export const HOST_SELECTION_OPTIONS = {
  host: { type: 'string' },
  config: { type: 'string' },
  project: { type: 'string' },
  'dry-run': { type: 'boolean' },
  home: { type: 'string' },
  tapwire: { type: 'string' },
} as const;

export const HOST_SELECTION_HELP = `  --host H          ${HOSTS.join(', ')} or all (default: all)
  --config FILE     one config file instead of the hosts' own (its format from --host, else from its content)
  --project DIR     the project whose project-scope configs to cover (default: the current directory)
  --dry-run         print the changes as a unified diff and write nothing
  --home DIR        Tapwire home: taps write there, install keeps its backups in DIR/install
                    (default: $TAPWIRE_HOME or ~/.tapwire)
  --tapwire CMD     the tapwire command the host runs (default: tapwire, found on the host's PATH)`;

/** The hosts --host names. */
export function selectedHosts(value: string | undefined): HostName[] {
  if (value === undefined || value === 'all') return [...HOSTS];
  const hosts = value.split(',').map((h) => h.trim());
  for (const host of hosts) if (!(HOSTS as readonly string[]).includes(host)) throw new UsageError(`--host: expected ${HOSTS.join(', ')} or all, got '${host}'`);
  return hosts as HostName[];
}

/** The existing config files of the selected hosts (or the one --config names), each once. */
export function configFilesFor(options: { host?: string; config?: string; project?: string }): HostConfigFile[] {
  if (options.config !== undefined) {
    const file = resolve(options.config);
    if (!existsSync(file)) throw new UsageError(`--config: ${file} does not exist`);
    const host = options.host === undefined ? undefined : selectedHosts(options.host);
    if (host !== undefined && host.length !== 1) throw new UsageError('--config takes one --host (the format of the file)');
    return [explicitConfigFile(file, host?.[0], readFileSync(file, 'utf8'))];
  }
  const seen = new Set<string>();
  return selectedHosts(options.host)
    .flatMap((host) => hostConfigFiles(host, options.project ?? process.cwd()))
    .filter((config) => existsSync(config.file) && !seen.has(config.file) && seen.add(config.file));
}

/** One file a run writes (undefined content: remove it). */
export interface PlannedWrite {
  file: string;
  before: string | undefined;
  after: string | undefined;
  /** The bytes to write when they must be exact (a restored backup). */
  bytes?: Buffer;
  /** A backup Tapwire keeps for itself: written, but not part of the diff a user reviews. */
  backup?: boolean;
}

/** Writes the planned files, keeping each existing file's permissions. */
export function applyWrites(writes: readonly PlannedWrite[]): void {
  for (const write of writes) {
    if (write.after === undefined) {
      rmSync(write.file, { force: true });
      continue;
    }
    const mode = existsSync(write.file) ? statSync(write.file).mode & 0o777 : undefined;
    writeFileAtomically(write.file, write.bytes ?? write.after, mode);
  }
}

/** The planned writes as one unified diff. */
export function diffOf(writes: readonly PlannedWrite[]): string {
  return writes
    .filter((w) => w.before !== w.after && !w.backup)
    .map((w) => createTwoFilesPatch(w.before === undefined ? '/dev/null' : w.file, w.after === undefined ? '/dev/null' : w.file, w.before ?? '', w.after ?? ''))
    .join('');
}

/** What happened to each server, one row per server. */
export function changeTable(rows: readonly { config: HostConfigFile; change: ServerChange }[]): string {
  if (rows.length === 0) return 'no MCP servers found in the host configs\n';
  return renderTable(
    ['host', 'scope', 'server', 'kind', 'action', 'file', 'note'],
    rows.map(({ config, change }) => [config.host, change.scope, change.name, change.kind, change.action, config.file, [change.disabled ? 'disabled in the host' : '', change.note ?? ''].filter(Boolean).join('; ')]),
    100,
  );
}
