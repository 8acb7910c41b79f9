/** The server and tool inventory: what the store observed, with the pins drift detection holds for each tool. */
import { DriftLedger } from '../../detectors/drift/driftLedger.js';
import { pinKey } from '../../detectors/drift/pinnedDefinition.js';
import type { StateStore } from '../../detectors/stateStore.js';
import type { ServerSummary, Store } from '../../pipeline/store.js';
import type { InventoryServer, InventoryTool } from '../api/consoleApiTypes.js';

const iso = (ms: number): string => new Date(ms).toISOString();

function serverEntry(server: ServerSummary, pending: number): InventoryServer {
  const entry: InventoryServer = {
    id: server.id,
    name: server.name,
    transport: server.transport,
    first_seen: iso(server.firstSeen),
    last_seen: iso(server.lastSeen),
    sessions: server.sessions,
    events: server.events,
    hosts: server.hosts,
    pending_changes: pending,
    tools: [],
  };
  if (server.reportedName !== undefined) entry.reported_name = server.reportedName;
  if (server.version !== undefined) entry.version = server.version;
  return entry;
}

/**
 * Servers (most recently seen first) with their tools; each tool's version is one row per definition hash. Pins come
 * from every state file holding drift ledgers (one per serverEvents partition when group members run detection).
 */
export async function inventory(store: Store, states: readonly StateStore[]): Promise<InventoryServer[]> {
  const ledgers = new Map(states.flatMap((state) => DriftLedger.all(state)).map((ledger) => [ledger.serverId, ledger]));
  const servers = (await store.servers({})).sort((a, b) => b.lastSeen - a.lastSeen);
  const tools = await store.tools({});
  return servers.map((server) => {
    const ledger = ledgers.get(server.id);
    const entry = serverEntry(server, ledger?.pendingChanges().length ?? 0);
    for (const tool of tools.filter((t) => t.serverId === server.id).sort((a, b) => a.name.localeCompare(b.name) || a.firstSeen - b.firstSeen)) {
      const row: InventoryTool = { name: tool.name, hash: tool.hash, first_seen: iso(tool.firstSeen), last_seen: iso(tool.lastSeen) };
      if (tool.description !== undefined) row.description = tool.description;
      const pin = ledger?.pin(pinKey('tool', tool.name));
      if (pin) row.pin = { hash: pin.hash, source: pin.source, since: pin.since, matches: pin.hash === tool.hash };
      entry.tools.push(row);
    }
    return entry;
  });
}
