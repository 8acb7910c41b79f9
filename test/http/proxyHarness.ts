/** Runs the built `tapwire proxy` as a real child process on 127.0.0.1 with an OS-chosen port. */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { requireBuiltCli } from '../support/tapwireCli.js';

/** A running proxy process. */
export interface ProxyProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
  /** Sends SIGTERM and waits for the exit code (the proxy stores the open sessions' events first). */
  stop(): Promise<number | null>;
  /** Sends SIGKILL, as a supervisor whose grace ran out does, and waits for the process to be gone. */
  kill(): Promise<void>;
}

/**
 * How long a proxy may take to start or to stop before it is killed. Only a guard against a child outliving the
 * test run: a busy machine makes both slow, and a stop that waits for the observer to catch up is the behaviour
 * under test, so nothing should depend on this being short (the test itself fails if the proxy is killed).
 */
const GUARD_MS = 300_000;

/** Starts `tapwire proxy --listen 127.0.0.1:0 ARGS` (with `env` added to the environment) and resolves once it prints its address. */
export async function startProxy(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProxyProcess> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [requireBuiltCli(), 'proxy', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`proxy did not start: ${stderr}`));
    }, GUARD_MS).unref();
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /listening on (\S+)/.exec(stderr);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited with ${code}: ${stderr}`));
    });
  });
  let stopping: Promise<number | null> | undefined;
  return {
    url,
    stderr: () => stderr,
    stop: () => {
      stopping ??= (async () => {
        const kill = setTimeout(() => child.kill('SIGKILL'), GUARD_MS).unref();
        child.kill('SIGTERM');
        const code = await exited;
        clearTimeout(kill);
        return code;
      })();
      return stopping;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
