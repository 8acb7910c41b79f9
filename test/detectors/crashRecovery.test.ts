import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../pipeline/bus.js';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { resolveHome } from '../../pipeline/home.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { requireBuiltCli, runCli, tempHome } from '../support/tapwireCli.js';
import { scriptEvents, type ScriptedSession } from './sessionScript.js';
import { until } from '../support/until.js';

const SERVERS = 150;
const SESSIONS = 1200;

/** Sessions of many servers whose tool flips between two definitions: drift alerts all along the bus. */
function workload(): ScriptedSession[] {
  return Array.from({ length: SESSIONS }, (_, i) => ({
    session: `s${i}`,
    at: new Date(Date.UTC(2025, 5, 1) + i * 10_000).toISOString(),
    server: `srv-${i % SERVERS}`,
    command: `node server-${i % SERVERS}.js`,
    client: i % 3 === 0 ? 'cursor' : 'claude-desktop',
    steps: [{ tools: [{ name: 'lookup', description: Math.floor(i / SERVERS) % 2 === 0 ? 'Looks a thing up.' : `Looks a thing up. <IMPORTANT>v${i}</IMPORTANT>`, inputSchema: { type: 'object' } }] }],
  }));
}

function statePosition(home: string): number {
  try {
    const db = new Database(resolveHome(home).state, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT \"offset\" FROM positions WHERE source = 'bus:mcp.events'").pluck().get() as number | undefined) ?? -1;
    } finally {
      db.close();
    }
  } catch {
    return -1;
  }
}

/** Resolves once `ready` holds, checked every few milliseconds (the state store has no change events). */
/**
 * Starts a following `tapwire detect` (it never ends by itself) and SIGKILLs it once its committed position has
 * passed `after`; returns the position it was killed at. The bus holds only part of the workload, so the kill is
 * partway whatever the machine's load: the worker cannot get past what is on the bus.
 */
async function killMidway(home: string, rules: string, after: number): Promise<number> {
  const child = spawn(process.execPath, [requireBuiltCli(), 'detect', '--batch', '20', '--home', home, '--rules', rules, '--allow-empty'], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve(signal));
  });
  let ended = false;
  void exited.then(() => (ended = true));
  await until(() => ended || statePosition(home) > after, `the worker's committed position to pass ${after}`, 300_000);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return statePosition(home);
}

describe('kill -9 of the detector worker', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('loses and duplicates no alert: after restarts the store holds exactly what one clean replay raises', async () => {
    const rules = join(home, 'rules');
    mkdirSync(rules);
    const events = scriptEvents('crash.ndjson', workload());
    const file = join(home, 'events.ndjson');
    writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    // The bus gets the workload a third at a time: each kill lands within what is on the bus by then.
    const append = async (from: number, to: number): Promise<number> => {
      const bus = new EmbeddedBus(resolveHome(home).bus);
      try {
        bus.appendSync(TOPICS.events, events.slice(from, to).map((e) => ({ key: e.mcp.session.id, value: JSON.stringify(e) })));
        return (bus.describe().topics.find((t) => t.topic === TOPICS.events) as { lastOffset: number }).lastOffset;
      } finally {
        await bus.close();
      }
    };
    const third = Math.floor(events.length / 3);

    const firstPart = await append(0, third);
    const first = await killMidway(home, rules, -1);
    expect(first).toBeLessThanOrEqual(firstPart);
    const secondPart = await append(third, 2 * third);
    const second = await killMidway(home, rules, first);
    expect(second).toBeGreaterThan(first);
    expect(second).toBeLessThanOrEqual(secondPart);
    const last = await append(2 * third, events.length);
    expect(second).toBeLessThan(last);
    const finish = await runCli(['detect', '--once', '--home', home, '--rules', rules, '--allow-empty']);
    expect(finish.code).toBe(0);
    expect(statePosition(home)).toBe(last);

    const stored = (await runCli(['alerts', '--json', '--limit', '100000', '--home', home])).stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as McpAlert);
    const replay = await runCli(['replay', file, '--rules', rules, '--allow-empty']);
    expect(replay.code).toBe(0);
    const reference = replay.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as McpAlert);
    expect(reference.length).toBeGreaterThan(SESSIONS / 2);
    const ids = (alerts: McpAlert[]) => alerts.map((a) => a.alert.fingerprint).sort();
    expect(new Set(ids(reference)).size).toBe(reference.length);
    expect(ids(stored)).toEqual(ids(reference));
    // Five CLI processes over the workload: past vitest's 60 s default at a load average of 20 on two cores.
  }, 600_000);
});
