import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../support/tapwireCli.js';

/** A usage error is exactly one line on stderr, naming the command, and exit code 2. */
function expectUsageError(result: { code: number | null; stderr: string }, fragment: string): void {
  expect(result.code).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(fragment);
}

describe('bad input to the CLI', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('rejects unknown commands and options with exit code 2', async () => {
    expectUsageError(await runCli(['frobnicate']), "unknown command 'frobnicate'");
    expectUsageError(await runCli(['events', '--colour']), "unknown option '--colour'");
    expectUsageError(await runCli(['sessions', 'extra']), "unexpected argument 'extra'");
  });

  it('rejects malformed option values with the option named', async () => {
    expectUsageError(await runCli(['events', '--since', 'yesterday', '--home', home]), "--since: expected a duration like 30s, 15m, 1h, 7d or an ISO time, got 'yesterday'");
    expectUsageError(await runCli(['events', '--limit=-4', '--home', home]), "--limit: expected a positive whole number, got '-4'");
    expectUsageError(await runCli(['events', '--limit', '-4', '--home', home]), "option '--limit' needs a value; write --limit=VALUE for one that starts with a dash");
    expectUsageError(await runCli(['events', '--limit', '--home', home]), "option '--limit' needs a value");
    expectUsageError(await runCli(['tap', '--name']), '--name needs a value');
    expectUsageError(await runCli(['tap', '--home', home]), 'missing the server command');
    expectUsageError(await runCli(['tap', '--verbose', '--', 'x']), "unknown option '--verbose'");
  });

  it('explains an empty home and a corrupt database on one line, exit code 1', async () => {
    const empty = await runCli(['events', '--home', join(home, 'nothing-here')]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^tapwire events: no Tapwire data in .*nothing-here/);

    const corrupt = join(home, 'corrupt');
    await runCli(['tap', '--home', corrupt, '--', process.execPath, '-e', '0']);
    writeFileSync(join(corrupt, 'bus.sqlite'), 'this is not a database');
    const result = await runCli(['sessions', '--home', corrupt]);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(join(corrupt, 'bus.sqlite'));
  });

  it('prints help for every command with exit code 0', async () => {
    for (const command of ['tap', 'events', 'sessions', 'servers', 'status', 'demo']) {
      const result = await runCli([command, '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout.toString()).toMatch(new RegExp(`^Usage: tapwire ${command}`));
    }
    const overview = await runCli(['--help']);
    expect(overview.stdout.toString()).toContain('Commands:');
  });
});
