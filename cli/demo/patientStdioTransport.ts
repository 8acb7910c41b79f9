/**
 * The demo host's MCP transport to a child over stdio, closed as a patient host closes it: its input is ended and
 * the child is left to exit on its own. The SDK's StdioClientTransport sends SIGTERM 2 s after ending the input and
 * SIGKILL 2 s later without waiting: a `tapwire tap` starved of CPU is still recording or handing off its session by
 * then, so the demo lost whole sessions (killed taps) or ran its detectors before the taps had handed off (0 alerts).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** How long a child may take to exit after its input ends before it is asked to with SIGTERM (a tap then hands off at once). */
const EXIT_GRACE_MS = 120_000;

export class PatientStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private child: ChildProcessByStdio<Writable, Readable, Readable | null> | undefined;
  private readonly buffer = new ReadBuffer();

  /**
   * `command args` as the host's server entry, with `env` (the SDK's default environment unless given, as the SDK's
   * transport does); its stderr is this process's, or goes to `onStderr`.
   */
  constructor(
    private readonly command: string,
    private readonly args: string[],
    private readonly options: { env?: Record<string, string>; onStderr?: (chunk: Buffer) => void } = {},
  ) {}

  async start(): Promise<void> {
    const { env, onStderr } = this.options;
    const child = spawn(this.command, this.args, { stdio: ['pipe', 'pipe', onStderr ? 'pipe' : 'inherit'], env: env ?? getDefaultEnvironment() }) as ChildProcessByStdio<Writable, Readable, Readable | null>;
    this.child = child;
    if (onStderr) child.stderr?.on('data', onStderr);
    child.on('error', (error) => this.onerror?.(error));
    child.stdin.on('error', (error) => this.onerror?.(error));
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffer.append(chunk);
      for (;;) {
        let message: JSONRPCMessage | null;
        try {
          message = this.buffer.readMessage();
        } catch (error) {
          this.onerror?.(error as Error);
          continue;
        }
        if (message === null) break;
        this.onmessage?.(message);
      }
    });
    child.once('close', () => this.onclose?.());
    await Promise.race([once(child, 'spawn'), once(child, 'error').then(([error]) => Promise.reject(error as Error))]);
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin?.writable) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => stdin.write(serializeMessage(message), (error) => (error ? reject(error) : resolve())));
  }

  /** Ends the child's input and resolves once it has exited (and its output is read). */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const closed = once(child, 'close');
    child.stdin.end();
    const grace = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), EXIT_GRACE_MS).unref());
    if ((await Promise.race([closed, grace])) === 'late') child.kill('SIGTERM');
    await closed;
  }
}
