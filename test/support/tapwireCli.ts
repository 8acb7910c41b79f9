/** Test helpers for running the built `tapwire` CLI as a real child process. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { recoverHomeHandoffs } from '../../collectors/stdio/handoffRecovery.js';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { TOPICS } from '../../pipeline/bus.js';
import { resolveHome } from '../../pipeline/home.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TAPWIRE_CLI = join(REPO_ROOT, 'dist', 'cli', 'tapwire.js');
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');

/** The TypeScript sources the build compiles (tsconfig.build.json's include). */
const BUILT_SOURCE_DIRS = ['collectors', 'pipeline', 'detectors', 'service', 'cli', 'console', 'bench'];
let checkedBuild = false;

/** The newest modification time of the .ts files under `dir`. */
function newestSource(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Fails clearly when the CLI has not been compiled, or was compiled before a source last changed: a test of stale
 * JavaScript would pass or fail for code that is not the code under test (npm test builds first).
 */
export function requireBuiltCli(): string {
  if (!existsSync(TAPWIRE_CLI)) throw new Error(`${TAPWIRE_CLI} is missing: run 'npm run build' (npm test does) before these tests`);
  if (!checkedBuild) {
    const built = statSync(join(REPO_ROOT, 'dist', '.tsbuildinfo'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    const changed = Math.max(...BUILT_SOURCE_DIRS.map((dir) => newestSource(join(REPO_ROOT, dir))));
    if (changed > built) throw new Error(`dist/ is older than the sources (changed ${new Date(changed).toISOString()}, built ${new Date(built).toISOString()}): run 'npm run build' (npm test does) before these tests`);
    checkedBuild = true;
  }
  return TAPWIRE_CLI;
}

/** Resolves once process `pid` has exited (checked every 20 ms: a foreign process signals nothing). */
export async function processGone(pid: number | null | undefined): Promise<void> {
  if (!pid) return;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A fresh Tapwire home in the temp directory, and its removal. */
export function tempHome(prefix = 'tapwire-test-'): { home: string; remove(): void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

/** argv for running a server behind the tap: `node tapwire.js tap --name N --home H -- command args…`. */
export function tapArgv(home: string, name: string, command: string, args: string[]): string[] {
  return [requireBuiltCli(), 'tap', '--name', name, '--home', home, '--', command, ...args];
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `tapwire ARGS` to completion, feeding `input` on stdin; a command still running after `timeoutMs` (default
 * 240 s: the bound of a hung command, never of a slow one, which on two saturated cores takes tens of seconds) is killed.
 */
export function runCli(args: string[], options: { input?: Buffer | string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [requireBuiltCli(), ...args], { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Every event published to a home's bus, in bus order, once what taps handed off at exit has been recorded (as
 * the next tap or tapwire command would): a tap on a busy machine may exit before its observer has caught up.
 * With `recover: false`, only what is on the bus already.
 */
export async function busEvents(home: string, { recover = true } = {}): Promise<McpEvent[]> {
  if (recover) await recoverHomeHandoffs({ home, warn: (message) => process.stderr.write(`${message}\n`) });
  const bus = new EmbeddedBus(resolveHome(home).bus);
  try {
    const consumer = await bus.consumer(`test-reader-${process.pid}-${Date.now()}`, TOPICS.events);
    const events: McpEvent[] = [];
    for (;;) {
      const batch = await consumer.poll(5000);
      if (batch.length === 0) return events;
      for (const record of batch) events.push(JSON.parse(record.value) as McpEvent);
    }
  } finally {
    await bus.close();
  }
}

/** Holds the home's bus in an exclusive transaction, as a second writer that does not let go would, until release(). */
export function lockBus(home: string): { release(): void } {
  const holder = new Database(resolveHome(home).bus);
  holder.exec('BEGIN EXCLUSIVE');
  return {
    release: () => {
      holder.exec('COMMIT');
      holder.close();
    },
  };
}
