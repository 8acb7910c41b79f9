/** `tapwire tap`: run an stdio MCP server behind the tap. */
import { runStdioTap } from '../../collectors/stdio/stdioTap.js';
import { helpText, positiveInteger, UsageError } from '../usage.js';

const spec = {
  name: 'tap',
  summary:
    'Runs an stdio MCP server behind the tap. Traffic passes through byte for byte; every JSON-RPC message\nbecomes an event in the embedded bus. Exits with the server\'s exit code (128+signal if it was killed).',
  usage: 'tapwire tap [--name NAME] [--home DIR] [--config FILE] -- <command> [args...]',
  details: `Options:
  --name NAME   the server's configured name (the key in the host's mcpServers); default: the name it reports
  --home DIR    Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
  --config FILE tapwire.yaml selecting the bus (default: $TAPWIRE_CONFIG, else <home>/tapwire.yaml);
                with a Kafka bus, events wait in the home's spool while Kafka is unreachable

Environment:
  TAPWIRE_TAP_MAX_QUEUED   events held in memory before the observer lets chunks wait in the ring
                           (default and most 1000): a slow or locked bus delays recording, never drops
  TAPWIRE_TAP_RING_BYTES   memory for chunks the observer has not recorded yet (default 16 MiB, a
                           burst of 100,000 small messages); when it is full, chunks go to a spill file
                           in <home>/handoff, recorded when the tap exits, and traffic goes on
  TAPWIRE_TAP_SPILL_BYTES  bound of that spill file (default 256 MiB); past it, observation skips
                           bytes, counted in session.end and status and said on stderr
  TAPWIRE_TAP_HANDOFF_MS   how long the tap lets the observer finish after the server exits (default
                           1000) before handing the unrecorded frames to <home>/handoff, where the next
                           tap, detect, up or status records them
  TAPWIRE_HOST_SESSION     the host session id, for launchers that start several taps for one host

Example (claude_desktop_config.json):
  "notes": { "command": "tapwire", "args": ["tap", "--name", "notes", "--", "npx", "-y", "@acme/notes-mcp"] }
`,
  options: {},
};

/** Splits tap options from the server command: the command starts at `--` or at the first non-option. */
function parseTapArgs(argv: string[]): { name?: string; home?: string; config?: string; command: string[] } | undefined {
  const out: { name?: string; home?: string; config?: string; command: string[] } = { command: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.command = argv.slice(i + 1);
      break;
    }
    if (arg === '--help' || arg === '-h') return undefined;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--name' || flag === '--home' || flag === '--config') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
      out[flag.slice(2) as 'name' | 'home' | 'config'] = value;
      continue;
    }
    if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}' (put the server command after '--')`);
    out.command = argv.slice(i);
    break;
  }
  if (out.command.length === 0) throw new UsageError(`missing the server command (usage: ${spec.usage})`);
  return out;
}

/** Entry point of `tapwire tap`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseTapArgs(argv);
  if (!parsed) {
    process.stdout.write(helpText(spec));
    return 0;
  }
  const [command, ...args] = parsed.command;
  const { TAPWIRE_TAP_MAX_QUEUED: maxQueued, TAPWIRE_TAP_RING_BYTES: ringBytes, TAPWIRE_TAP_SPILL_BYTES: spillBytes, TAPWIRE_TAP_HANDOFF_MS: handoffMs } = process.env;
  return runStdioTap({
    command: command!,
    args,
    ...(parsed.name ? { name: parsed.name } : {}),
    ...(parsed.home ? { home: parsed.home } : {}),
    ...(parsed.config ? { configFile: parsed.config } : {}),
    ...(maxQueued ? { maxQueuedEvents: positiveInteger(maxQueued, 'TAPWIRE_TAP_MAX_QUEUED', 1000) } : {}),
    ...(ringBytes ? { ringBytes: positiveInteger(ringBytes, 'TAPWIRE_TAP_RING_BYTES', 16 << 20) } : {}),
    ...(spillBytes ? { spillBytes: positiveInteger(spillBytes, 'TAPWIRE_TAP_SPILL_BYTES', 256 << 20) } : {}),
    ...(handoffMs ? { handoffAfterMs: handoffMs === '0' ? 0 : positiveInteger(handoffMs, 'TAPWIRE_TAP_HANDOFF_MS', 1000) } : {}),
  });
}
