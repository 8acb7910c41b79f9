/**
 * The approved-server inventory: which MCP servers may run, by name and by the command line or URL that identifies
 * them, with the version and tool hashes they are expected to present. Patterns use Sigma wildcards (`*`, `?`,
 * backslash escapes), as rules do.
 */
import { parseSigmaString } from '../sigma/sigmaString.js';
import { compileWildcard, type StringTest } from '../sigma/wildcardMatcher.js';

/** One approved server, as written in the inventory file. */
export interface InventoryEntry {
  name: string;
  /** Pattern over the stdio command line (the server identity without its "stdio:" prefix). */
  command?: string;
  /** Pattern over the server URL (the identity of a remote server). */
  url?: string;
  /** The serverInfo.name the server is expected to report. */
  reportedName?: string;
  /** Pattern over the serverInfo.version the server is expected to report. */
  version?: string;
  /** Approved tool definitions: tool name → canonical SHA-256 (as `tapwire servers --tools` shows). */
  tools?: Record<string, string>;
  /** Line of the entry in the inventory file, for messages. */
  line: number;
}

interface CompiledEntry {
  entry: InventoryEntry;
  identity: StringTest;
  version?: StringTest;
}

const STDIO_PREFIX = 'stdio:';

function wildcard(pattern: string): StringTest {
  const [value] = parseSigmaString(pattern);
  if (!value) throw new Error(`pattern '${pattern}' is empty`);
  return compileWildcard(value, true).test;
}

/** A loaded inventory: matches server identities and names against the approved entries. */
export class Inventory {
  private readonly compiled: CompiledEntry[];

  /** `file` names the inventory in alerts and errors. */
  constructor(
    readonly file: string,
    readonly entries: readonly InventoryEntry[],
  ) {
    this.compiled = entries.map((entry) => {
      const command = entry.command === undefined ? undefined : wildcard(entry.command);
      const url = entry.url === undefined ? undefined : wildcard(entry.url);
      const identity: StringTest = (serverId) =>
        serverId.startsWith(STDIO_PREFIX) ? command?.(serverId.slice(STDIO_PREFIX.length)) === true : url?.(serverId) === true;
      return entry.version === undefined ? { entry, identity } : { entry, identity, version: wildcard(entry.version) };
    });
  }

  /** Entries whose command or URL pattern matches the server identity (mcp.server.id). */
  matching(serverId: string): InventoryEntry[] {
    return this.compiled.filter((c) => c.identity(serverId)).map((c) => c.entry);
  }

  /** Entries whose name or reported name equals `name`, ignoring case. */
  named(name: string): InventoryEntry[] {
    const wanted = name.toLowerCase();
    return this.entries.filter((e) => e.name.toLowerCase() === wanted || e.reportedName?.toLowerCase() === wanted);
  }

  /** Whether `version` fits the entry's version pattern (true when the entry sets none). */
  versionFits(entry: InventoryEntry, version: string): boolean {
    const test = this.compiled.find((c) => c.entry === entry)?.version;
    return test === undefined || test(version);
  }

  /** The approved tool hashes for a server identity, when a matching entry lists them. */
  expectedTools(serverId: string): Record<string, string> | undefined {
    return this.matching(serverId).find((e) => e.tools !== undefined)?.tools;
  }
}
