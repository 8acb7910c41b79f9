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

/** Starts `tapwire detect --once` and SIGKILLs it once its committed position has passed `after`; returns that position. */
function killMidway(home: string, rules: string, after: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [requireBuiltCli(), 'detect', '--once', '--batch', '20', '--home', home, '--rules', rules, '--allow-empty'], { stdio: 'ignore' });
    let killedAt = -1;
    const poll = setInterval(() => {
      const position = statePosition(home);
      if (position > after && killedAt < 0) {
        killedAt = position;
        child.kill('SIGKILL');
      }
    }, 3);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (signal !== 'SIGKILL') reject(new Error(`detect ended by itself (code ${code}) before it could be killed: make the workload bigger`));
      else resolve(killedAt);
    });
  });
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
    const bus = new EmbeddedBus(resolveHome(home).bus);
    bus.appendSync(TOPICS.events, events.map((e) => ({ key: e.mcp.session.id, value: JSON.stringify(e) })));
    const last = (bus.describe().topics.find((t) => t.topic === TOPICS.events) as { lastOffset: number }).lastOffset;
    await bus.close();

    const first = await killMidway(home, rules, -1);
    const second = await killMidway(home, rules, first);
    expect(second).toBeGreaterThan(first);
    expect(second).toBeLessThan(last);
    const finish = await runCli(['detect', '--once', '--home', home, '--rules', rules, '--allow-empty'], { timeoutMs: 60_000 });
    expect(finish.code).toBe(0);
    expect(statePosition(home)).toBe(last);

    const stored = (await runCli(['alerts', '--json', '--limit', '100000', '--home', home])).stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as McpAlert);
    const replay = await runCli(['replay', file, '--rules', rules, '--allow-empty'], { timeoutMs: 60_000 });
    expect(replay.code).toBe(0);
    const reference = replay.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as McpAlert);
    expect(reference.length).toBeGreaterThan(SESSIONS / 2);
    const ids = (alerts: McpAlert[]) => alerts.map((a) => a.alert.fingerprint).sort();
    expect(new Set(ids(reference)).size).toBe(reference.length);
    expect(ids(stored)).toEqual(ids(reference));
  });
});
