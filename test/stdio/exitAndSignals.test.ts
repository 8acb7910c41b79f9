import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { busEvents, FIXTURES, requireBuiltCli, runCli, tempHome } from '../support/tapwireCli.js';

const SIGNAL_SERVER = join(FIXTURES, 'signalServer.mjs');

/** Starts a tap in front of the signal server, waits for "ready", sends SIGTERM to the tap. */
function terminateTapAfterReady(home: string, mode: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const tap = spawn(process.execPath, [requireBuiltCli(), 'tap', '--home', home, '--', process.execPath, SIGNAL_SERVER, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    const timer = setTimeout(() => tap.kill('SIGKILL'), 120_000);
    tap.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout === 'ready\n') tap.kill('SIGTERM');
    });
    tap.on('error', reject);
    tap.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
  });
}

describe('exit codes and signals', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it("exits with the server's exit code", async () => {
    const result = await runCli(['tap', '--home', home, '--', process.execPath, '-e', 'process.exit(3)']);
    expect(result.code).toBe(3);
  });

  it('forwards SIGTERM to the server, which handles it', async () => {
    const result = await terminateTapAfterReady(join(home, 'trap'), 'trap');
    expect(result.stdout).toBe('ready\ngot SIGTERM\n');
    expect(result.code).toBe(0);
  });

  it('exits with 128+signal when the server dies of the forwarded signal, and records the end', async () => {
    const signalHome = join(home, 'killed');
    const result = await terminateTapAfterReady(signalHome, 'plain');
    expect(result.code).toBe(128 + 15);
    const end = (await busEvents(signalHome)).at(-1)!;
    expect(end.event.action).toBe('session.end');
    expect(end.message).toContain('SIGTERM');
  });

  it('reports a server that cannot start on one line and exits 127', async () => {
    const result = await runCli(['tap', '--home', home, '--', '/nonexistent/mcp-server']);
    expect(result.code).toBe(127);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain("cannot start '/nonexistent/mcp-server'");
  });
});
