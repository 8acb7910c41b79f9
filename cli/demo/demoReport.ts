/** Prints what the demo captured: sessions, servers, tools with their hashes, and the tool calls. */
import type { Store } from '../../pipeline/store.js';
import { summarizeEvent } from '../../service/alertView/eventSummary.js';
import { renderTable, shortTime } from '../commandOutput.js';

/** Writes the capture report for a home's store to `out`. */
export async function writeDemoReport(store: Store, out: (text: string) => void): Promise<void> {
  const sessions = await store.sessions({});
  const servers = await store.servers({});
  const tools = await store.tools({});
  const calls = await store.events({ method: 'tools/call', order: 'asc', limit: 1000 });

  out('\nSessions (one per server process behind a tap; one host session groups them)\n');
  out(renderTable(['session', 'server', 'reports as', 'client', 'protocol', 'events', 'host session'], sessions.map((s) => [s.id.slice(0, 8), s.serverName, s.serverVersion, s.clientName, s.protocolVersion, s.events, s.hostSessionId])));

  out('\nServers (the inventory: identity is the command line; secrets in arguments are redacted)\n');
  out(renderTable(['server', 'reports as', 'version', 'sessions', 'identity'], servers.map((s) => [s.name, s.reportedName, s.version, s.sessions, s.id]), 70));

  out('\nTools (SHA-256 over the canonical definition; a changed description is a new hash)\n');
  out(renderTable(['server', 'tool', 'sha256', 'first seen', 'description'], tools.map((t) => [t.serverName, t.name, t.hash.slice(0, 16), shortTime(t.firstSeen), t.description]), 70));

  out('\nTool calls\n');
  out(renderTable(['time', 'server', '', 'call / result'], calls.map((e) => [shortTime(Date.parse(e['@timestamp'])), e.mcp.server.name, e.mcp.message?.kind === 'request' ? '→' : '←', summarizeEvent(e)]), 110));
}
