/**
 * Shadowing and name collisions between the servers of one host session. Shadowing: a server's tool
 * descriptions (or its instructions) name a tool another server owns, to steer how the model uses it.
 * Collision: two servers offer a tool of the same name with different definitions, so the one the host
 * resolves last hijacks calls meant for the other. Identical definitions under the same server name
 * (one server configured twice, e.g. two filesystem roots) are not a collision.
 */
import type { Tool } from '../../pipeline/types/mcpEvent.js';
import { hintsOf } from '../toolTraits.js';
import type { ListedTool, ServerListing } from './hostSessionMemory.js';
import { excerptAround, toolMentions } from './toolMention.js';

/** The pseudo tool name of a server's initialize instructions. */
export const INSTRUCTIONS = '(instructions)';

/** One server's text naming another server's tool. */
export interface ShadowingFinding {
  shadower: ServerListing;
  /** The shadower's tool whose text names the target, or INSTRUCTIONS. */
  tool: string;
  toolHash: string;
  target: ServerListing;
  targetTool: string;
  excerpt: string;
}

/** Two servers offering one tool name. */
export interface CollisionFinding {
  first: ServerListing;
  second: ServerListing;
  tool: string;
  firstHash: string;
  secondHash: string;
}

/** A tools/list entry as the listing keeps it: description and parameter descriptions as one bounded text. */
export function listedTool(tool: Tool, maxChars: number): ListedTool {
  const properties = ((tool.input_schema as { properties?: unknown } | undefined)?.properties ?? {}) as Record<string, unknown>;
  const params = typeof properties === 'object' && properties !== null && !Array.isArray(properties) ? Object.keys(properties) : [];
  const paramTexts = params.flatMap((param) => {
    const description = (properties[param] as { description?: unknown } | null)?.description;
    return typeof description === 'string' ? [`${param}: ${description}`] : [];
  });
  const text = [tool.title, tool.description, ...paramTexts].filter((t): t is string => typeof t === 'string' && t !== '').join('\n').slice(0, maxChars);
  return { name: tool.name, hash: tool.hash, hints: hintsOf(tool), params, text };
}

/** The texts of a listing that can name other tools: each tool's, and the instructions. */
function texts(listing: ServerListing): { tool: string; hash: string; text: string }[] {
  const out = listing.tools.map((t) => ({ tool: t.name, hash: t.hash, text: t.text }));
  if (listing.instructions !== undefined) out.push({ tool: INSTRUCTIONS, hash: '', text: listing.instructions });
  return out;
}

/** Where `shadower`'s texts name tools that `target` owns and `shadower` does not. */
export function shadowingBetween(shadower: ServerListing, target: ServerListing): ShadowingFinding[] {
  const own = new Set(shadower.tools.map((t) => t.name));
  const findings: ShadowingFinding[] = [];
  for (const { tool, hash, text } of texts(shadower)) {
    for (const targetTool of target.tools.map((t) => t.name).filter((name) => !own.has(name))) {
      const at = toolMentions(text, targetTool)[0];
      if (at !== undefined) findings.push({ shadower, tool, toolHash: hash, target, targetTool, excerpt: excerptAround(text, at) });
    }
  }
  return findings;
}

/** The tool names two listings share with different definitions (or under different server names). */
export function collisionsBetween(first: ServerListing, second: ServerListing): CollisionFinding[] {
  const byName = new Map(first.tools.map((t) => [t.name, t]));
  const sameServerName = (first.reportedName ?? first.serverName) === (second.reportedName ?? second.serverName);
  return second.tools.flatMap((tool) => {
    const other = byName.get(tool.name);
    if (!other || (other.hash === tool.hash && sameServerName)) return [];
    return [{ first, second, tool: tool.name, firstHash: other.hash, secondHash: tool.hash }];
  });
}
