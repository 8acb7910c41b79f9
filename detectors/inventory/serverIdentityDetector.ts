/**
 * Unknown and impersonating servers. Against an approved inventory: a server that matches no entry, a known name run
 * from another command or URL, a version the entry does not allow. With or without one: a server name that imitates
 * a known one (confusable characters, one edit), a version that changes, a server that shows up on a new host, and,
 * with no inventory to judge by, the first sight of each server on the fleet (informational). Each finding alerts once
 * per server identity (and name, version or host).
 *
 * Known names of other servers live in one fleet-wide partition: under Kafka that table must be shared by every
 * worker (a global table), unlike the per-server partitions.
 */
import { alertContextOf, alertSourceOf, buildAlert, type AlertRuleInfo } from '../alertBuilder.js';
import { partitionOf, type Detector, type DetectorContext } from '../detector.js';
import type { StateStore } from '../stateStore.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { IDENTITY_RULES } from './identityRules.js';
import type { Inventory, InventoryEntry } from './inventory.js';
import { LookalikeIndex } from './lookalikeIndex.js';
import { lookalikeOf } from './nameSimilarity.js';

export interface ServerIdentityOptions {
  inventory?: Inventory;
  /** Hosts remembered per server (default 1,000; the least recent is forgotten). */
  maxHosts?: number;
}

/** What is remembered of one server identity. */
interface IdentityProfile {
  /** Host name → event time first seen there. */
  hosts: Record<string, number>;
  lastVersion?: string;
  /** Keys of the once-only findings already alerted. */
  alerted: string[];
  /** Names already compared with the known names (a newcomer is compared with those before it, once). */
  checkedNames: string[];
}

/** Servers seen under one (lower-case) name. */
interface FleetName {
  name: string;
  servers: string[];
}

const NS = { profile: 'identity.profile', names: 'identity.names' } as const;
const FLEET_PARTITION = '_fleet';
const MAX_SERVERS_PER_NAME = 16;
const PROXY_PREFIX = 'tapwire-proxy:';
const IDENTITY_METHODS = new Set(['initialize', 'server/discover', 'tools/list']);

/** Whether the event tells who a server is: a session start, or the answer to initialize, server/discover, tools/list. */
function tellsIdentity(event: McpEvent): boolean {
  if (event.mcp.server.id.startsWith(PROXY_PREFIX)) return false;
  if (event.event.action === 'session.start') return true;
  return event.mcp.message?.kind === 'response' && IDENTITY_METHODS.has(event.mcp.method?.name ?? '');
}

/** Non-ASCII characters of a name as U+XXXX, to show what a confusable hides. */
function unusualCharacters(name: string): string {
  const codes = [...name].filter((c) => (c.codePointAt(0) ?? 0) > 0x7e).map((c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`);
  return codes.length > 0 ? `: ${[...new Set(codes)].join(', ')}` : '';
}

function where(entry: InventoryEntry, inventory: Inventory): string {
  return `${inventory.file}:${entry.line}`;
}

/** The server-identity detector (partitioned by server identity). */
export class ServerIdentityDetector implements Detector {
  readonly id = 'tapwire.server-identity';
  readonly partitionBy = 'server' as const;
  private readonly inventory: Inventory | undefined;
  private readonly maxHosts: number;
  private readonly lookalikes = new LookalikeIndex(FLEET_PARTITION);

  /** Options are fixed for the detector's life. */
  constructor(options: ServerIdentityOptions = {}) {
    this.inventory = options.inventory;
    this.maxHosts = options.maxHosts ?? 1000;
  }

  /** Judges the server of a session start or identity-bearing response. */
  onEvent(event: McpEvent, { state, now }: DetectorContext): McpAlert[] {
    if (!tellsIdentity(event)) return [];
    const serverId = partitionOf(event, 'server');
    const stored = state.get<IdentityProfile>(serverId, NS.profile, 'server');
    const profile: IdentityProfile = { hosts: { ...stored?.hosts }, alerted: [...(stored?.alerted ?? [])], checkedNames: [...(stored?.checkedNames ?? [])] };
    if (stored?.lastVersion !== undefined) profile.lastVersion = stored.lastVersion;
    const alerts: McpAlert[] = [];
    const once = (key: string, rule: AlertRuleInfo, message: string, details: Record<string, unknown>): void => {
      if (profile.alerted.includes(key)) return;
      profile.alerted.push(key);
      alerts.push(buildAlert({ rule, context: alertContextOf(event), sources: [alertSourceOf(event)], discriminator: key, message, details: { identity: details } }));
    };
    const server = event.mcp.server;
    const names = [...new Set([server.name, server.reported_name].filter((n): n is string => n !== undefined && n !== ''))];
    const matches = this.inventory?.matching(serverId) ?? [];
    if (this.inventory) this.judgeAgainstInventory(event, names, matches, once);
    const unchecked = names.filter((n) => !profile.checkedNames.includes(n));
    // An approved server's name is the inventory's business, not an imitation of whatever was seen before it.
    if (unchecked.length > 0 && matches.length === 0) {
      this.judgeNames(state, event, unchecked, once);
      profile.checkedNames.push(...unchecked);
    }
    this.judgeVersion(event, profile, matches, once);
    this.judgeHost(event, stored === undefined, profile, now, once);
    // Most identity events repeat what is known: write the profile only when it changed.
    if (stored === undefined || JSON.stringify(profile) !== JSON.stringify({ ...stored, checkedNames: stored.checkedNames ?? [] })) state.put(serverId, NS.profile, 'server', profile);
    for (const name of names) this.remember(state, name, serverId);
    return alerts;
  }

  private judgeAgainstInventory(event: McpEvent, names: string[], matches: InventoryEntry[], once: Once): void {
    const inventory = this.inventory as Inventory;
    const server = event.mcp.server;
    if (matches.length === 0) {
      const namesake = names.flatMap((n) => inventory.named(n))[0];
      if (namesake) {
        const approved = namesake.command !== undefined ? `command "${namesake.command}"` : `URL "${namesake.url ?? ''}"`;
        once(`known-name:${namesake.name}`, IDENTITY_RULES.knownNameOtherCommand, `MCP server "${server.name}" runs as ${server.id}, but the inventory (${where(namesake, inventory)}) approves "${namesake.name}" only as ${approved}`, { server_id: server.id, inventory_entry: namesake.name, inventory_line: namesake.line, approved });
      } else {
        once('unknown', IDENTITY_RULES.unknownServer, `MCP server "${server.name}"${server.reported_name && server.reported_name !== server.name ? ` (reports as "${server.reported_name}")` : ''} on host ${event.host.hostname} is not in the approved inventory ${inventory.file}: ${server.id}`, { server_id: server.id, inventory: inventory.file });
      }
      return;
    }
    const version = server.version;
    if (version !== undefined && !matches.some((e) => inventory.versionFits(e, version))) {
      const entry = matches[0] as InventoryEntry;
      once(`version-mismatch:${version}`, IDENTITY_RULES.versionMismatch, `MCP server "${server.name}" reports version ${version}; the inventory (${where(entry, inventory)}) allows "${entry.version ?? ''}"`, { version, allowed: entry.version ?? null, inventory_line: entry.line });
    }
  }

  private judgeNames(state: StateStore, event: McpEvent, names: string[], once: Once): void {
    const serverId = event.mcp.server.id;
    const inventoryNames = new Map<string, string>();
    for (const entry of this.inventory?.entries ?? []) {
      inventoryNames.set(entry.name, `the inventory's "${entry.name}"`);
      if (entry.reportedName !== undefined) inventoryNames.set(entry.reportedName, `the inventory's "${entry.name}"`);
    }
    for (const name of names) {
      // The inventory's names, then the fleet's in key order: only the index's candidates can be look-alikes.
      const known = new Map(inventoryNames);
      for (const key of this.lookalikes.candidates(state, name, () => this.fleetSpellings(state))) {
        const fleet = state.get<FleetName>(FLEET_PARTITION, NS.names, key);
        if (fleet === undefined) continue;
        if (fleet.servers.some((s) => s !== serverId) && !known.has(fleet.name)) known.set(fleet.name, `server ${fleet.servers.find((s) => s !== serverId) ?? ''}`);
      }
      for (const [knownName, owner] of known) {
        const how = lookalikeOf(name, knownName);
        if (how === undefined) continue;
        const why = how === 'confusable' ? `confusable characters${unusualCharacters(name)}` : 'one edit away';
        once(`lookalike:${name}`, IDENTITY_RULES.lookalikeName, `MCP server name "${name}" imitates the known name "${knownName}" (${why}) of ${owner}; this server is ${serverId}`, { name, imitates: knownName, how, owner });
        break;
      }
    }
  }

  /** Every fleet name as (key, stored spelling), for indexing a state written before the look-alike index. */
  private *fleetSpellings(state: StateStore): Iterable<[string, string]> {
    for (const [key, fleet] of state.entries<FleetName>(FLEET_PARTITION, NS.names)) yield [key, fleet.name];
  }

  private judgeVersion(event: McpEvent, profile: IdentityProfile, matches: InventoryEntry[], once: Once): void {
    const version = event.mcp.server.version;
    if (version === undefined) return;
    const previous = profile.lastVersion;
    profile.lastVersion = version;
    if (previous === undefined || previous === version) return;
    const approved = matches.some((e) => e.version !== undefined && this.inventory?.versionFits(e, version) === true);
    if (approved) return;
    once(`version:${previous}->${version}`, IDENTITY_RULES.versionChanged, `MCP server "${event.mcp.server.name}" changed its reported version from ${previous} to ${version}`, { from: previous, to: version });
  }

  private judgeHost(event: McpEvent, firstSight: boolean, profile: IdentityProfile, now: number, once: Once): void {
    const host = event.host.hostname;
    if (profile.hosts[host] !== undefined) return;
    profile.hosts[host] = now;
    const hosts = Object.entries(profile.hosts);
    if (hosts.length > this.maxHosts) profile.hosts = Object.fromEntries(hosts.sort(([, a], [, b]) => b - a).slice(0, this.maxHosts));
    const server = event.mcp.server;
    if (firstSight && !this.inventory) {
      once('first-sight', IDENTITY_RULES.firstSight, `First sight of MCP server "${server.name}" on the fleet, on host ${host}: ${server.id}`, { server_id: server.id, host });
    } else if (!firstSight || (this.inventory?.matching(server.id).length ?? 0) > 0) {
      once(`host:${host}`, IDENTITY_RULES.newHost, `MCP server "${server.name}" appeared on host ${host} for the first time: ${server.id}`, { server_id: server.id, host });
    }
  }

  private remember(state: StateStore, name: string, serverId: string): void {
    const key = name.toLowerCase();
    const fleet = state.get<FleetName>(FLEET_PARTITION, NS.names, key);
    if (fleet?.servers.includes(serverId)) return;
    this.lookalikes.add(state, key, name);
    state.put(FLEET_PARTITION, NS.names, key, { name, servers: [...(fleet?.servers ?? []), serverId].slice(-MAX_SERVERS_PER_NAME) } satisfies FleetName);
  }
}

type Once = (key: string, rule: AlertRuleInfo, message: string, details: Record<string, unknown>) => void;
