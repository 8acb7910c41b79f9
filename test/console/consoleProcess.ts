/** Runs `tapwire console` as a real child process on a free loopback port and reads what it prints once. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { requireBuiltCli } from '../support/tapwireCli.js';

export interface ConsoleProcess {
  child: ChildProcess;
  origin: string;
  loginUrl: string;
  token: string;
  /** Everything the console wrote to stderr so far (its refusal log). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts the console on `home`; resolves once it printed its URL and token. */
export async function startConsoleProcess(home: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ConsoleProcess> {
  const child = spawn(process.execPath, [requireBuiltCli(), 'console', '--home', home, '--listen', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const printed = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ctrl-C')) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`tapwire console exited with ${code}: ${err}`)));
  });
  const origin = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(printed)?.[1];
  const loginUrl = /log in: (\S+)/.exec(printed)?.[1];
  const tokenFile = /token: the one in (\S+)/.exec(printed)?.[1];
  const token = /Bearer\): (\S+)/.exec(printed)?.[1] ?? (tokenFile === undefined ? undefined : readFileSync(tokenFile, 'utf8').trim());
  if (!origin || !loginUrl || !token) {
    child.kill('SIGTERM');
    throw new Error(`unexpected console output: ${printed}`);
  }
  return {
    child,
    origin,
    loginUrl,
    token,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
