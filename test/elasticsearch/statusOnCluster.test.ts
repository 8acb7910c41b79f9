/**
 * `tapwire servers` and `tapwire status` read the store tapwire.yaml selects (or --store names): on a real
 * Elasticsearch cluster, the inventory and each tap session's counters come from the cluster, and status shows the
 * depth of the collectors' spool (events waiting for an unreachable bus).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskSpool } from '../../collectors/spool/diskSpool.js';
import { TOPICS } from '../../pipeline/bus.js';
import { installEsTemplates } from '../../pipeline/elasticsearch/esSetup.js';
import type { EsStore } from '../../pipeline/elasticsearch/esStore.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { openEsStore } from '../../service/configuredStore.js';
import { makeEvent, makeTool } from '../support/eventFixtures.js';
import { realElasticsearchUrl, SKIPPED_WITHOUT_ENGINES } from '../support/realEngines.js';
import { runCli, tempHome } from '../support/tapwireCli.js';

const url = realElasticsearchUrl('statusOnCluster.test.ts');
const T0 = Date.UTC(2026, 2, 1);
const MEMORY = 'npx -y @modelcontextprotocol/server-memory';
const FETCH = 'uvx mcp-server-fetch';

/** Two memory sessions (one ended with 3 events it could not deliver) and one fetch session, on two hosts. */
function dataset(): McpEvent[] {
  const mem1 = { session: 'mem-1', serverId: MEMORY, serverName: 'memory', hostname: 'h1' };
  const mem2 = { session: 'mem-2', serverId: MEMORY, serverName: 'memory', hostname: 'h2' };
  const fetch = { session: 'fetch-1', serverId: FETCH, serverName: 'fetch', hostname: 'h1' };
  const response = { kind: 'response', direction: 'server_to_client' } as const;
  const end = makeEvent({ ...mem1, sequence: 3, time: T0 + 3, action: 'session.end' });
  end.mcp.tap = { frames: 6, events: 4, dropped: 3, bytes_unobserved: 0 };
  return [
    makeEvent({ ...mem1, ...response, sequence: 0, time: T0, method: 'tools/list', tools: [makeTool('read_graph', 'Read the knowledge graph')] }),
    makeEvent({ ...mem1, sequence: 1, time: T0 + 1, method: 'tools/call', tool: 'read_graph' }),
    makeEvent({ ...mem1, ...response, sequence: 2, time: T0 + 2, method: 'tools/call', tool: 'read_graph' }),
    end,
    makeEvent({ ...mem2, sequence: 0, time: T0 + 10, method: 'tools/call', tool: 'read_graph' }),
    makeEvent({ ...fetch, ...response, sequence: 0, time: T0 + 20, method: 'tools/list', tools: [makeTool('fetch', 'Fetches a URL')] }),
  ];
}

describe.skipIf(!url)(`servers and status on a real Elasticsearch${url ? '' : ` (${SKIPPED_WITHOUT_ENGINES})`}`, () => {
  const namespace = `tapwire_status_${process.pid}`;
  const { home, remove } = tempHome('tapwire-es-status-');
  let store: EsStore;

  beforeAll(async () => {
    writeFileSync(join(home, 'tapwire.yaml'), ['store: elasticsearch', 'elasticsearch:', `  node: "${url}"`, `  namespace: ${namespace}`, ''].join('\n'));
    store = openEsStore({ node: url!, namespace });
    await installEsTemplates(store.client, { namespace, retentionDays: 1 });
    await store.ingestEvents(dataset());
    await store.client.indices.refresh({ index: store.names.messages });
    // Two events a tap could not hand to the bus wait in the home's spool.
    mkdirSync(join(home, 'spool'));
    const spool = new DiskSpool(join(home, 'spool', 'spool.sqlite'), 1 << 20);
    spool.append(TOPICS.events, [{ key: 'h1/1', value: '{"spooled":1}' }, { key: 'h1/1', value: '{"spooled":2}' }]);
    spool.close();
  });

  afterAll(async () => {
    if (store) {
      await store.client.indices.deleteDataStream({ name: [store.names.messages, store.names.alerts] }).catch(() => undefined);
      await store.client.indices.delete({ index: store.names.positions, ignore_unavailable: true }).catch(() => undefined);
      await store.close();
    }
    remove();
  });

  it('servers lists the inventory of the cluster, with the config selecting it and with --store es', async () => {
    for (const args of [['--home', home], ['--home', home, '--store', 'es']]) {
      const listed = await runCli(['servers', '--json', ...args]);
      expect(listed.code, listed.stderr.toString()).toBe(0);
      const servers = listed.stdout.toString().trim().split('\n').map((line) => JSON.parse(line) as { name: string; sessions: number; events: number; hosts: string[] });
      expect(servers.map((s) => [s.name, s.sessions, s.events, [...s.hosts].sort()]).sort()).toEqual([
        ['fetch', 1, 1, ['h1']],
        ['memory', 2, 5, ['h1', 'h2']],
      ]);
    }
  });

  it('status reads the sessions and losses from the cluster and shows the spool depth', async () => {
    const result = await runCli(['status', '--json', '--home', home]);
    expect(result.code, result.stderr.toString()).toBe(0);
    const status = JSON.parse(result.stdout.toString()) as { store_kind: string; taps: { session: string; events: number; dropped: number; state: string }[]; dropped: number; spool: { records: number }; next: string[] };
    expect(status.store_kind).toBe('elasticsearch');
    expect(status.taps.map((t) => [t.session, t.events, t.dropped, t.state]).sort()).toEqual([
      ['fetch-1', 1, 0, 'open'],
      ['mem-1', 4, 3, 'ended'],
      ['mem-2', 1, 0, 'open'],
    ]);
    expect(status.dropped).toBe(3);
    expect(status.spool.records).toBe(2);
    expect(status.next.join('\n')).toContain('2 events wait in the spool');

    const text = (await runCli(['status', '--home', home, '--store', 'es'])).stdout.toString();
    expect(text).toContain('store: elasticsearch');
    expect(text).toMatch(/spool: 2 records waiting/);
  });
});
