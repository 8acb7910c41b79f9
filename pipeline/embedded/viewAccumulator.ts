/**
 * Folds the newly stored events of one ingest batch into one change per session, server and tool, so the store writes
 * each inventory row once per batch instead of once per event.
 */
import type { McpEvent } from '../types/mcpEvent.js';

/** What a batch adds to one sessions row; later events' non-empty values win. */
export interface SessionView {
  id: string;
  hostSessionId: string | null;
  serverId: string;
  serverName: string;
  serverVersion: string | null;
  transport: string;
  clientName: string | null;
  clientVersion: string | null;
  protocolVersion: string | null;
  hostname: string;
  pid: number | null;
  firstSeen: number;
  lastSeen: number;
  events: number;
  ended: boolean;
}

/** What a batch adds to one servers row, plus the names and hosts it was seen with. */
export interface ServerView {
  id: string;
  name: string;
  reportedName: string | null;
  version: string | null;
  transport: string;
  firstSeen: number;
  lastSeen: number;
  /** Sessions of this server that the store did not know before the batch (set by countNewSession). */
  newSessions: number;
  events: number;
  names: Set<string>;
  hosts: Set<string>;
}

/** One tool definition (server, name, hash) seen in the batch's tools/list results. */
export interface ToolView {
  serverId: string;
  name: string;
  hash: string;
  serverName: string;
  description: string | null;
  firstSeen: number;
  lastSeen: number;
}

/** Accumulates the inventory changes of one batch of newly inserted events. */
export class ViewAccumulator {
  readonly sessions = new Map<string, SessionView>();
  readonly servers = new Map<string, ServerView>();
  readonly tools = new Map<string, ToolView>();

  /** Adds one newly inserted event, whose @timestamp is `ts` (epoch ms). */
  add(event: McpEvent, ts: number): void {
    this.addToSession(event, ts);
    this.addToServer(event, ts);
    for (const tool of event.mcp.tools ?? []) {
      const key = `${event.mcp.server.id}\u0000${tool.name}\u0000${tool.hash}`;
      const view = this.tools.get(key);
      if (view) {
        view.serverName = event.mcp.server.name;
        view.description = tool.description ?? view.description;
        view.firstSeen = Math.min(view.firstSeen, ts);
        view.lastSeen = Math.max(view.lastSeen, ts);
      } else {
        this.tools.set(key, {
          serverId: event.mcp.server.id,
          name: tool.name,
          hash: tool.hash,
          serverName: event.mcp.server.name,
          description: tool.description ?? null,
          firstSeen: ts,
          lastSeen: ts,
        });
      }
    }
  }

  /** Records that one session of `serverId` in this batch is new to the store. */
  countNewSession(serverId: string): void {
    const server = this.servers.get(serverId);
    if (server) server.newSessions += 1;
  }

  private addToSession(event: McpEvent, ts: number): void {
    const { mcp } = event;
    const view = this.sessions.get(mcp.session.id);
    const ended = event.event.action === 'session.end';
    if (!view) {
      this.sessions.set(mcp.session.id, {
        id: mcp.session.id,
        hostSessionId: mcp.host_session?.id ?? null,
        serverId: mcp.server.id,
        serverName: mcp.server.name,
        serverVersion: mcp.server.version ?? null,
        transport: mcp.transport,
        clientName: mcp.client?.name ?? null,
        clientVersion: mcp.client?.version ?? null,
        protocolVersion: mcp.protocol?.version ?? null,
        hostname: event.host.hostname,
        pid: event.process?.pid ?? null,
        firstSeen: ts,
        lastSeen: ts,
        events: 1,
        ended,
      });
      return;
    }
    view.hostSessionId = mcp.host_session?.id ?? view.hostSessionId;
    view.serverId = mcp.server.id;
    view.serverName = mcp.server.name;
    view.serverVersion = mcp.server.version ?? view.serverVersion;
    view.transport = mcp.transport;
    view.clientName = mcp.client?.name ?? view.clientName;
    view.clientVersion = mcp.client?.version ?? view.clientVersion;
    view.protocolVersion = mcp.protocol?.version ?? view.protocolVersion;
    view.hostname = event.host.hostname;
    view.pid = event.process?.pid ?? view.pid;
    view.firstSeen = Math.min(view.firstSeen, ts);
    view.lastSeen = Math.max(view.lastSeen, ts);
    view.events += 1;
    view.ended ||= ended;
  }

  private addToServer(event: McpEvent, ts: number): void {
    const { server } = event.mcp;
    const view = this.servers.get(server.id);
    if (!view) {
      this.servers.set(server.id, {
        id: server.id,
        name: server.name,
        reportedName: server.reported_name ?? null,
        version: server.version ?? null,
        transport: event.mcp.transport,
        firstSeen: ts,
        lastSeen: ts,
        newSessions: 0,
        events: 1,
        names: new Set([server.name]),
        hosts: new Set([event.host.hostname]),
      });
      return;
    }
    view.name = server.name;
    view.reportedName = server.reported_name ?? view.reportedName;
    view.version = server.version ?? view.version;
    view.transport = event.mcp.transport;
    view.firstSeen = Math.min(view.firstSeen, ts);
    view.lastSeen = Math.max(view.lastSeen, ts);
    view.events += 1;
    view.names.add(server.name);
    view.hosts.add(event.host.hostname);
  }
}
