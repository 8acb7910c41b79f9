/**
 * What a tap starved of CPU leaves in its home (collectors/stdio/handoffFile.ts): it forwarded a whole session between
 * a host and a real server while its observer recorded nothing, and at exit wrote every frame, raw, to a hand-off file
 * for the next tap or command to record. Here the test plays host and tap: it drives the real server over stdio, keeps
 * each chunk as it crossed the wire (with its time), and writes the hand-off with the product's writer, naming a
 * process that has exited (the server's) as the tap: the hand-off is recordable at once, no matter how long any wait.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { currentHostSession } from '../../collectors/hostSession.js';
import type { HeldChunk } from '../../collectors/stdio/chunkRing.js';
import { handoffDirectory, writeHandoff } from '../../collectors/stdio/handoffFile.js';
import { resolveHome } from '../../pipeline/home.js';

export interface HandedOffServer {
  /** The server's configured name, as `tap --name` gives it. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** A JSON-RPC request (with an id, answered before the next is sent) or notification. */
type Message = { method: string; id?: number; params?: unknown };

/** initialize, initialized, then `requests`: a host session as the SDK's client opens it. */
export function hostSession(requests: Message[]): Message[] {
  return [
    { method: 'initialize', id: 0, params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'starved-tap-test', version: '1.0.0' } } },
    { method: 'notifications/initialized' },
    ...requests,
  ];
}

/**
 * Runs `server` through `messages`, then closes its stdin; once it has exited, leaves the session's hand-off in `home`
 * as a tap whose observer recorded nothing does. Returns the session id and the file.
 */
export async function leaveHandoff(home: string, server: HandedOffServer, messages: Message[]): Promise<{ sessionId: string; file: string }> {
  const child = spawn(server.command, server.args, { env: { ...process.env, ...server.env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const held: HeldChunk[] = [];
  const forwarded: [number, number] = [0, 0];
  const keep = (dir: 0 | 1, bytes: Buffer): void => {
    held.push({ dir, timestampMs: Date.now(), lostBefore: 0, bytes });
    forwarded[dir] += bytes.length;
  };
  const answered = new Set<number>();
  let pending = '';
  let onAnswer = (): void => undefined;
  child.stdout.on('data', (bytes: Buffer) => {
    keep(1, bytes);
    pending += bytes.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const id = (JSON.parse(line) as { id?: unknown }).id;
      if (typeof id === 'number') answered.add(id);
    }
    onAnswer();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const start = { t: Date.now(), pid: child.pid };

  for (const message of messages) {
    const bytes = Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
    keep(0, bytes);
    child.stdin.write(bytes);
    const { id } = message;
    if (id === undefined) continue;
    await new Promise<void>((resolve) => {
      onAnswer = () => void (answered.has(id) && resolve());
      onAnswer();
    });
  }
  child.stdin.end();
  const exit = await exited;

  const sessionId = randomUUID();
  const file = writeHandoff(
    handoffDirectory(resolveHome(home).root),
    {
      server: { sessionId, name: server.name, command: server.command, args: server.args },
      host: currentHostSession(process.pid),
      tapPid: child.pid!,
      start,
      end: { t: Date.now(), exitCode: exit.code, signal: exit.signal, lostAtEnd: [0, 0] },
      forwarded,
      unobserved: 0,
      skip: [0, 0],
      reason: 'the observer had not finished when the server exited',
    },
    held,
    true,
  );
  return { sessionId, file };
}
