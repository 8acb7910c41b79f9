/** `tapwire approve`: review a server's changed tool definitions, then approve (new pin) or reject (known-bad). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { decideChanges, knownServers, pendingChangeDiff, pendingChanges, type ServerChanges } from '../../detectors/drift/driftApproval.js';
import type { StateStore } from '../../detectors/stateStore.js';
import { approvalItem } from '../../detectors/drift/toolDriftDetector.js';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import { resolveHome } from '../../pipeline/home.js';
import { renderTable, shortTime } from '../commandOutput.js';
import { parseCommand, UsageError } from '../usage.js';

const spec = {
  name: 'approve',
  summary:
    "Approves a server's pending tool drift (every pending change, or one TOOL): the definition it now presents\n" +
    'becomes its pin and stops alerting. --reject records the change as rejected instead: the old pin stays and the\n' +
    'rejected definition alerts as known-bad every time it is served. Each change is shown with its diff first; on a\n' +
    'terminal the decision is confirmed unless --yes. Changes are the ones the detector worker recorded; --list shows them.',
  usage: 'tapwire approve SERVER [TOOL] [--reject] [--yes] [--home DIR | --state DIR]\n       tapwire approve --list [SERVER] [--home DIR | --state DIR]',
  details: `Arguments:
  SERVER   server name (configured or reported) or identity (its command line or URL)
  TOOL     a tool name; "instructions"; or prompt:NAME / resource:URI (default: every pending change)

Options:
  --reject       reject instead of approve
  --yes          decide without asking (asked only when stdin is a terminal)
  --list         list pending changes instead of deciding
  --home DIR     Tapwire home whose state.sqlite to use (default: $TAPWIRE_HOME or ~/.tapwire)
  --state DIR    a replay's state directory instead (tapwire replay --state DIR)`,
  options: {
    reject: { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    list: { type: 'boolean' },
    home: { type: 'string' },
    state: { type: 'string' },
  },
  positionals: { min: 0, max: 2 },
} as const;

function stateFile(home: string | undefined, stateDir: string | undefined): string {
  if (home !== undefined && stateDir !== undefined) throw new UsageError('give --home or --state, not both');
  const file = stateDir === undefined ? resolveHome(home).state : join(stateDir, 'state.sqlite');
  if (!existsSync(file)) throw new Error(`no detector state at ${file} (run 'tapwire detect', 'tapwire up' or 'tapwire replay --state DIR' first)`);
  return file;
}

function listing(servers: readonly ServerChanges[]): string {
  const rows = servers.flatMap((s) => s.changes.map((c) => [s.serverName, approvalItem(c.kind, c.name), c.change, c.hash === 'removed' ? '-' : c.hash.slice(0, 16), shortTime(Date.parse(c.firstSeen)), c.sessions.length]));
  return rows.length ? renderTable(['server', 'item', 'change', 'presented sha256', 'first seen', 'sessions alerted'], rows) : 'no pending changes\n';
}

/** Every change with the diff between its pin and what the server presented. */
function review(state: StateStore, servers: readonly ServerChanges[]): string {
  const parts: string[] = [];
  for (const server of servers) {
    for (const change of server.changes) {
      const diff = pendingChangeDiff(state, server.serverId, change).unified.trimEnd();
      parts.push(`${server.serverName} ${approvalItem(change.kind, change.name)} (${change.change}, first seen ${change.firstSeen})\n${diff === '' ? '  (no definition to compare)' : diff}\n`);
    }
  }
  return `${parts.join('\n')}\n`;
}

async function confirmed(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Entry point of `tapwire approve`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const [server, item] = parsed.positionals;
  const o = parsed.values;
  if (!o.list && server === undefined) throw new UsageError(`missing SERVER (usage: ${spec.usage.split('\n')[0]})`);
  const state = new EmbeddedStateStore(stateFile(o.home, o.state));
  try {
    const servers = pendingChanges(state, server, item);
    if (o.list) {
      process.stdout.write(listing(servers));
      return 0;
    }
    if (servers.length === 0) throw new Error(`no server '${server}' in the detector state (known: ${knownServers(state).join(', ') || 'none'})`);
    const changes = servers.reduce((n, s) => n + s.changes.length, 0);
    if (changes === 0) {
      process.stderr.write(`nothing pending for ${server}${item === undefined ? '' : ` ${item}`}\n`);
      return 1;
    }
    const decision = o.reject ? 'reject' : 'approve';
    process.stdout.write(review(state, servers));
    if (process.stdin.isTTY && !o.yes && !(await confirmed(`${decision} ${changes} change${changes === 1 ? '' : 's'} shown above? [y/N] `))) {
      process.stderr.write('nothing decided\n');
      return 1;
    }
    decideChanges(state, servers, decision, new Date().toISOString());
    process.stdout.write(listing(servers));
    process.stdout.write(
      decision === 'approve'
        ? `approved ${changes} change${changes === 1 ? '' : 's'}; each becomes the pin when the server next presents it, and stops alerting\n`
        : `rejected ${changes} change${changes === 1 ? '' : 's'}; the old pins stay, and each time the server serves a rejected definition it alerts as known-bad\n`,
    );
    return 0;
  } finally {
    state.close();
  }
}
