/**
 * Sessions reach the bus in the order they happened, also when starved taps handed them off: detectors that compare
 * sessions read the bus in its order (drift pins the first definition it reads), so an earlier session recorded after
 * a later one reads a rug pull backwards. Four taps left hand-offs; the next tap records them, oldest first, before its
 * own session. Each hand-off holds enough (500 listings) that recording them takes far longer than the tap's first event
 * would wait to be published beside them.
 *
 * Mutants this test kills (checked by a mutation run): hand-offs recorded in the directory's order; the tap's own
 * events published while it records the hand-offs (as before, "beside" its session: it failed 4 of 4 runs).
 */
import { readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { handoffDirectory } from '../../collectors/stdio/handoffFile.js';
import { resolveHome } from '../../pipeline/home.js';
import { PatientStdioTransport } from '../../cli/demo/patientStdioTransport.js';
import { DRIFTING_SERVER } from '../support/driftingWeather.js';
import { hostSession, leaveHandoff } from '../support/starvedTap.js';
import { busEvents, tapArgv, tempHome } from '../support/tapwireCli.js';
import { until } from '../support/until.js';

const LISTINGS = Array.from({ length: 500 }, (_, i) => ({ method: 'tools/list', id: i + 1 }));

/** Session ids in the order the bus holds their first events. */
function sessionOrder(events: readonly { mcp: { session: { id: string } } }[]): string[] {
  return [...new Set(events.map((e) => e.mcp.session.id))];
}

describe('hand-offs of earlier sessions', () => {
  const { home, remove } = tempHome();
  afterAll(remove);

  it('are recorded oldest first, before the session of the tap that records them', async () => {
    const sessions: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { sessionId } = await leaveHandoff(home, { name: 'weather', command: process.execPath, args: [DRIFTING_SERVER], env: { DRIFT_STAGE: 'benign' } }, hostSession(LISTINGS));
      sessions.push(sessionId);
    }
    // The directory's own order says nothing of age: the hand-off it lists first is made the newest, and so on.
    const directory = handoffDirectory(resolveHome(home).root);
    const listed = readdirSync(directory).filter((name) => name.endsWith('.handoff'));
    expect(listed).toHaveLength(4);
    const now = Date.now() / 1000;
    listed.forEach((name, i) => utimesSync(join(directory, name), now - 60 + i * -10, now - 60 + i * -10));
    const oldestFirst = [...listed].reverse().map((name) => sessions.find((id) => name.startsWith(id))!);
    expect(new Set(oldestFirst).size).toBe(4);

    // The next tap's session stays open until its observer has put its first event on the bus (not a hand-off).
    const client = new Client({ name: 'handoff-order-test', version: '1.0.0' });
    await client.connect(new PatientStdioTransport(process.execPath, tapArgv(home, 'weather', process.execPath, [DRIFTING_SERVER]), { env: { ...(process.env as Record<string, string>), DRIFT_STAGE: 'poisoned' }, onStderr: () => undefined }));
    await client.listTools();
    let onBus: string[] = [];
    await until(async () => (onBus = sessionOrder(await busEvents(home, { recover: false }))).length === 5, 'the live session on the bus', 600_000);
    await client.close();
    expect(onBus.slice(0, 4)).toEqual(oldestFirst);
    expect(sessionOrder(await busEvents(home))).toEqual(onBus);
  });
});
