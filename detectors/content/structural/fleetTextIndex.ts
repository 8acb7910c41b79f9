/**
 * What the structural detectors know about the fleet beyond one text: which server offers which tool (for
 * shadowing and for telling a server's own prerequisites from foreign ones) and what tools of each kind claim
 * about themselves (for preference manipulation). Fed by every tools/list the detector sees.
 */
import { PeerClaims } from './peerClaims.js';
import { preferenceClaimWeight } from './preferenceClaims.js';
import type { SignalContext } from './structuralDetector.js';
import { ToolNameIndex } from './toolNameIndex.js';

export class FleetTextIndex {
  readonly names = new ToolNameIndex();
  readonly claims = new PeerClaims();
  private readonly toolsByServer = new Map<string, Set<string>>();

  /** Records a tool a server offers, with its (normalized) description and that description's claim weight. */
  addTool(server: string, tool: string, description: string, claimWeight = preferenceClaimWeight(description)): void {
    this.names.add(server, tool);
    this.claims.add(server, tool, claimWeight);
    const tools = this.toolsByServer.get(server) ?? new Set();
    tools.add(tool);
    this.toolsByServer.set(server, tools);
  }

  toolsOf(server: string): readonly string[] {
    return [...(this.toolsByServer.get(server) ?? [])];
  }
}

/** The context for a description of `tool` on `server`, as the fleet knows it. */
export function documentationContext(fleet: FleetTextIndex, server: string, tool: string | undefined): SignalContext {
  // The server's tools and the peers' claim rate are looked up only if a detector asks (most texts give none a reason).
  let ownTools: readonly string[] | undefined;
  let peerClaimRate: number | undefined;
  const context: SignalContext = {
    serverName: server,
    get ownTools() {
      return (ownTools ??= fleet.toolsOf(server));
    },
    foreignTool: (words) => fleet.names.foreignTo(server, words.split(' ')),
    nameStartsWith: (word) => fleet.names.startsWith(word),
    get peerClaimRate() {
      return (peerClaimRate ??= fleet.claims.rateFor(server, tool));
    },
  };
  if (tool !== undefined) context.toolName = tool;
  return context;
}
