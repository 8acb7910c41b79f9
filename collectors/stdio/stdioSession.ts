/**
 * What a stdio session's events say about the server and the host, built the same way by the observer that
 * records the session live and by the recovery that records, later, what a tap handed off at exit: both must
 * produce the events the session would have had.
 */
import { hostname, userInfo } from 'node:os';
import { basename } from 'node:path';
import { tapwireVersion } from '../../pipeline/packagePaths.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { HostSession } from '../hostSession.js';
import { SessionNormalizer, type NormalizerState } from '../normalizer.js';
import type { Redactor } from '../redaction.js';

/** The tap's view of the server it runs. */
export interface StdioServer {
  sessionId: string;
  name?: string;
  command: string;
  args: string[];
}

/** A stdio session's normalizer and the process fields of its lifecycle events. */
export interface StdioSession {
  normalizer: SessionNormalizer;
  processFields(pid: number | undefined, exitCode?: number | null): NonNullable<McpEvent['process']>;
}

/**
 * The normalizer of a stdio session; `from` continues a session some of whose events are recorded: from another
 * normalizer's state, or (without its correlation) from the sequence of its next event.
 */
export function stdioSession(server: StdioServer, host: HostSession, redactor: Redactor, from: NormalizerState | number = 0): StdioSession {
  const commandLine = redactor.args([server.command, ...server.args]);
  const normalizer = new SessionNormalizer(
    {
      sessionId: server.sessionId,
      hostSessionId: host.id,
      transport: 'stdio',
      serverId: `stdio:${commandLine.join(' ')}`,
      ...(server.name ? { serverName: server.name } : {}),
      context: {
        host: { hostname: hostname(), name: hostname() },
        observer: { type: 'stdio_tap', product: 'tapwire', vendor: 'Tapwire', version: tapwireVersion(), hostname: hostname() },
        network: { transport: 'pipe', protocol: 'mcp' },
        user: { name: safeUserName() },
      },
    },
    typeof from === 'number' ? { redactor, firstSequence: from } : { redactor, resume: from },
  );
  return {
    normalizer,
    processFields: (pid, exitCode) => ({
      ...(pid ? { pid } : {}),
      name: basename(server.command),
      executable: commandLine[0]!,
      args: commandLine,
      command_line: commandLine.join(' '),
      parent: { pid: host.hostPid, ...(host.hostStart ? { start: host.hostStart } : {}) },
      ...(exitCode !== undefined && exitCode !== null ? { exit_code: exitCode } : {}),
    }),
  };
}

/** How a session's end reads in its session.end message and outcome. */
export function sessionEndFields(server: StdioServer, end: { exitCode: number | null; signal: string | null; error?: string }): { message: string; outcome: 'success' | 'failure' } {
  const how = end.error ?? (end.signal ? `killed by ${end.signal}` : `exited with code ${end.exitCode}`);
  return { message: `MCP server ${server.name ?? server.command} ${how}`, outcome: end.error ? 'failure' : 'success' };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
