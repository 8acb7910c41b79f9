#!/usr/bin/env node
/** The `tapwire` command: dispatches to one module per command, loaded only when used. */
import { tapwireVersion } from '../pipeline/packagePaths.js';
import { UsageError } from './usage.js';

interface CommandModule {
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  tap: { summary: 'run an stdio MCP server behind the tap', load: () => import('./commands/tapCommand.js') },
  proxy: { summary: 'run a reverse proxy that taps remote (HTTP) MCP servers', load: () => import('./commands/proxyCommand.js') },
  events: { summary: 'list captured MCP events', load: () => import('./commands/eventsCommand.js') },
  sessions: { summary: 'list MCP sessions', load: () => import('./commands/sessionsCommand.js') },
  servers: { summary: 'list MCP servers seen (the inventory) and their tools', load: () => import('./commands/serversCommand.js') },
  status: { summary: 'bus depth, per-tap counts and dropped events', load: () => import('./commands/statusCommand.js') },
  rules: { summary: 'work with the Sigma detection rules (test, lint, list, export)', load: () => import('./commands/rulesCommand.js') },
  detect: { summary: 'run the detector worker: bus events → rule pack + stateful detectors → alerts', load: () => import('./commands/detectCommand.js') },
  up: { summary: 'run the whole embedded pipeline of this machine: store sync, detectors, scheduled jobs', load: () => import('./commands/upCommand.js') },
  replay: { summary: 'replay a transcript or event NDJSON file through every detector; alerts as NDJSON', load: () => import('./commands/replayCommand.js') },
  alerts: { summary: 'list stored alerts', load: () => import('./commands/alertsCommand.js') },
  approve: { summary: "approve (or reject) a server's changed tool definitions", load: () => import('./commands/approveCommand.js') },
  console: { summary: 'serve the local web console (alerts, sessions, inventory, tool review) on 127.0.0.1', load: () => import('./commands/consoleCommand.js') },
  inventory: { summary: 'export the servers and tool pins observed so far as an inventory file (inventory export)', load: () => import('./commands/inventoryCommand.js') },
  es: { summary: 'set up Elasticsearch for the Tapwire store (templates, lifecycle, data streams)', load: () => import('./commands/esCommand.js') },
  kibana: { summary: 'import the Tapwire data views, dashboards and detection rule into Kibana', load: () => import('./commands/kibanaCommand.js') },
  install: { summary: "put every MCP server of this machine's hosts (Claude, Cursor, VS Code, Windsurf) behind Tapwire", load: () => import('./commands/installCommand.js') },
  uninstall: { summary: "undo 'tapwire install': host configs back to their original bytes", load: () => import('./commands/uninstallCommand.js') },
  eval: { summary: 'measure detection on labelled JSONL (recall, false positives, per tier, leave-one-source-out); writes DETECTION.md', load: () => import('./commands/evalCommand.js') },
  demo: { summary: 'run real MCP servers behind taps with a scripted host; show what was captured and the alerts', load: () => import('./commands/demoCommand.js') },
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: tapwire <command> [options]\n\nTapwire makes MCP traffic visible and alertable.\n\nCommands:\n${lines.join('\n')}\n\nRun 'tapwire <command> --help' for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? rest[0] : undefined;
    if (target && COMMANDS[target]) return (await COMMANDS[target].load()).run(['--help']);
    process.stdout.write(overview());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${tapwireVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`tapwire: unknown command '${name}' (see 'tapwire --help')\n`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`tapwire ${name}: ${error.message} (see 'tapwire ${name} --help')\n`);
      return 2;
    }
    process.stderr.write(`tapwire ${name}: ${(error as Error).message}\n`);
    if (process.env.TAPWIRE_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}

// A reader that stops early (`tapwire events --json | head`) closes the pipe: that ends the output, and is no failure.
// The tap handles its own stdout, which is the server's channel to the host.
if (process.argv[2] !== 'tap') {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}
process.exitCode = await main(process.argv.slice(2));
// Output written to a pipe may still be queued: flush it, then end even if long-lived handles
// (the tap's stdin) would keep the process alive.
await new Promise((resolve) => process.stdout.write('', resolve));
process.exit();
