/**
 * Cross-MCP triggering within one host session: content one server returned (tool results, resources,
 * prompts, sampling requests) driving a call to another server, or carried into it; and servers whose
 * descriptions name another server's tools (shadowing) or take another server's tool name (collision).
 * Partitioned by host session: everything it compares happens between the servers one host uses.
 */
import { alertContextOf, alertSourceOf, buildAlert, type AlertLevel, type AlertSource } from '../alertBuilder.js';
import { partitionOf, type Detector, type DetectorContext } from '../detector.js';
import type { ToolHints } from '../toolTraits.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { CrossServerConfig } from './crossServerConfig.js';
import { flowFinding, instructionFinding, type FlowFinding, type InstructionFinding, type JudgedCall } from './crossServerFlow.js';
import { CROSS_SERVER_RULES } from './crossServerRules.js';
import { HostSessionMemory, type CallItem, type ContentItem, type ServerListing } from './hostSessionMemory.js';
import { argumentStrings, returnedContent } from './returnedContent.js';
import { taintFeatures } from './taintFeatures.js';
import { collisionsBetween, INSTRUCTIONS, listedTool, shadowingBetween, type CollisionFinding, type ShadowingFinding } from './toolShadowing.js';

const MAX_LISTED_EVIDENCE = 20;

function levelOfFlow(score: number): AlertLevel {
  return score >= 5 ? 'critical' : score >= 4 ? 'high' : 'medium';
}

function itemSummary(item: ContentItem): Record<string, unknown> {
  return { event_id: item.source.id, server: item.serverName, server_id: item.serverId, kind: item.kind, ...(item.origin === undefined ? {} : { origin: item.origin }) };
}

function describeItem(item: ContentItem): string {
  const what = { tool_result: 'tool', resource: 'resource', prompt: 'prompt', sampling: 'sampling request' }[item.kind];
  return item.origin === undefined ? `a ${what}` : `${what} ${item.origin}`;
}

/** Cross-server instruction following, data flows, shadowing and tool-name collisions in a host session. */
export class CrossServerDetector implements Detector {
  readonly id = 'tapwire.cross-server';
  readonly partitionBy = 'host_session' as const;
  readonly #config: CrossServerConfig;

  /** A detector with validated settings (see crossServerConfig). */
  constructor(config: CrossServerConfig) {
    this.#config = config;
  }

  /** Remembers listings and returned content; judges calls against what other servers returned. */
  onEvent(event: McpEvent, context: DetectorContext): McpAlert[] {
    const memory = new HostSessionMemory(context.state, partitionOf(event, this.partitionBy), this.#config);
    const action = event.mcp.method?.name ?? event.event.action;
    const kind = event.mcp.message?.kind;
    if (action === 'tools/list' && kind === 'response' && event.mcp.tools !== undefined) return this.#onListing(event, memory, context.now);
    if (action === 'initialize' && kind === 'response' && event.mcp.instructions !== undefined) return this.#onInstructions(event, memory, context.now);
    if (action === 'tools/call' && kind === 'request' && event.mcp.direction !== 'server_to_client') return this.#onCall(event, memory, context.now);
    const content = returnedContent(event, this.#config.maxScanChars);
    if (!content) return [];
    const item: ContentItem = {
      at: context.now,
      source: alertSourceOf(event),
      serverId: event.mcp.server.id,
      serverName: event.mcp.server.name,
      ...content,
      text: content.text.slice(0, this.#config.maxContentChars),
      taint: taintFeatures(content.text, this.#config),
    };
    memory.addContent(item);
    // Calls to other servers that happened after this content but reached the bus before it.
    const later = memory.callsBetween(item.at, item.at + this.#config.windowMs).filter((call) => call.serverId !== item.serverId);
    return later.flatMap((call) => this.#judgeCall(call, [item], memory));
  }

  /** Forgets idle host sessions and content that fell out of the window. */
  onTick(context: DetectorContext): McpAlert[] {
    HostSessionMemory.expire(context.state, this.#config, context.now);
    return [];
  }

  #listingOf(event: McpEvent, memory: HostSessionMemory, now: number): ServerListing {
    const server = event.mcp.server;
    const previous = memory.listing(server.id);
    return {
      ...previous,
      serverId: server.id,
      serverName: server.name,
      ...(server.reported_name === undefined ? {} : { reportedName: server.reported_name }),
      at: now,
      tools: previous?.tools ?? [],
    };
  }

  #onListing(event: McpEvent, memory: HostSessionMemory, now: number): McpAlert[] {
    const tools = (event.mcp.tools ?? []).slice(0, this.#config.maxToolsPerServer).map((tool) => listedTool(tool, this.#config.maxDescriptionChars));
    const listing: ServerListing = { ...this.#listingOf(event, memory, now), tools, source: alertSourceOf(event), context: alertContextOf(event) };
    memory.putListing(listing);
    return this.#judgeListing(listing, memory, now);
  }

  #onInstructions(event: McpEvent, memory: HostSessionMemory, now: number): McpAlert[] {
    const instructions = event.mcp.instructions!.slice(0, this.#config.maxDescriptionChars);
    const listing: ServerListing = { ...this.#listingOf(event, memory, now), instructions, instructionsSource: alertSourceOf(event), instructionsContext: alertContextOf(event) };
    memory.putListing(listing);
    return this.#judgeListing(listing, memory, now);
  }

  #judgeListing(listing: ServerListing, memory: HostSessionMemory, now: number): McpAlert[] {
    const alerts: McpAlert[] = [];
    for (const other of memory.listings()) {
      if (other.serverId === listing.serverId) continue;
      for (const finding of [...shadowingBetween(listing, other), ...shadowingBetween(other, listing)]) {
        const key = ['shadowing', finding.shadower.serverId, finding.tool, finding.toolHash, finding.target.serverId, finding.targetTool].join('\n');
        if (memory.firstReport(key, now)) alerts.push(this.#shadowingAlert(finding));
      }
      for (const finding of collisionsBetween(other, listing)) {
        const key = ['collision', ...[finding.first.serverId, finding.second.serverId].sort(), finding.tool, ...[finding.firstHash, finding.secondHash].sort()].join('\n');
        if (memory.firstReport(key, now)) alerts.push(this.#collisionAlert(finding));
      }
    }
    return alerts;
  }

  #shadowingAlert(finding: ShadowingFinding): McpAlert {
    const { shadower, target } = finding;
    const fromInstructions = finding.tool === INSTRUCTIONS;
    const shadowerSource = fromInstructions ? shadower.instructionsSource : shadower.source;
    const context = (fromInstructions ? shadower.instructionsContext : shadower.context)!;
    const where = fromInstructions ? 'instructions' : `description of tool "${finding.tool}"`;
    return buildAlert({
      rule: CROSS_SERVER_RULES.shadowing,
      context,
      sources: [shadowerSource!, target.source!],
      message: `Server "${shadower.serverName}" names "${finding.targetTool}", a tool of server "${target.serverName}", in its ${where}: "${finding.excerpt}".`,
      details: {
        shadowing_server: { name: shadower.serverName, id: shadower.serverId, tool: finding.tool },
        target_server: { name: target.serverName, id: target.serverId, tool: finding.targetTool },
        excerpt: finding.excerpt,
      },
      matched: [{ field: fromInstructions ? 'mcp.instructions' : 'mcp.tools.description', value: finding.excerpt }],
      discriminator: `${finding.tool}\n${finding.targetTool}`,
    });
  }

  #collisionAlert(finding: CollisionFinding): McpAlert {
    const { first, second } = finding;
    const identical = finding.firstHash === finding.secondHash;
    return buildAlert({
      rule: CROSS_SERVER_RULES.nameCollision,
      context: second.context!,
      sources: [first.source!, second.source!],
      message: `Servers "${first.serverName}" and "${second.serverName}" both offer a tool named "${finding.tool}"${identical ? ' (same definition, different server names)' : ' with different definitions'}; calls meant for one can reach the other.`,
      details: {
        tool: finding.tool,
        first_server: { name: first.serverName, id: first.serverId, reported_name: first.reportedName, tool_hash: finding.firstHash },
        second_server: { name: second.serverName, id: second.serverId, reported_name: second.reportedName, tool_hash: finding.secondHash },
      },
      matched: [{ field: 'mcp.tools.name', value: finding.tool }],
      discriminator: finding.tool,
    });
  }

  #onCall(event: McpEvent, memory: HostSessionMemory, now: number): McpAlert[] {
    const call: CallItem = {
      at: now,
      source: alertSourceOf(event),
      context: alertContextOf(event),
      serverId: event.mcp.server.id,
      serverName: event.mcp.server.name,
      tool: event.gen_ai!.tool!.name,
      arguments: argumentStrings(event, this.#config.maxContentChars),
    };
    memory.addCall(call);
    const earlier = memory.contentsBetween(now - this.#config.windowMs, now).filter((item) => item.serverId !== call.serverId);
    return earlier.length === 0 ? [] : this.#judgeCall(call, earlier, memory);
  }

  /**
   * Judges a call against content of other servers returned before it: each call alerts once per rule, except that a
   * flow whose source arrived late alerts again when it is stronger than the one reported (strongerReport).
   */
  #judgeCall(call: CallItem, sources: readonly ContentItem[], memory: HostSessionMemory): McpAlert[] {
    const hintsOf = (server: string, tool: string): ToolHints => memory.listing(server)?.tools.find((t) => t.name === tool)?.hints ?? {};
    const judged: JudgedCall = { serverId: call.serverId, tool: call.tool, hints: hintsOf(call.serverId, call.tool), arguments: call.arguments };
    const alerts: McpAlert[] = [];
    const instruction = instructionFinding(judged, sources, this.#config);
    if (instruction && memory.firstReport(`instruction\n${call.source.id}`, call.at)) alerts.push(this.#instructionAlert(call, instruction));
    const own = memory.contentsBetween(call.at - this.#config.windowMs, call.at).filter((item) => item.serverId === call.serverId);
    const flow = flowFinding(judged, sources, own, hintsOf, this.#config);
    if (flow && memory.strongerReport(`flow\n${call.source.id}`, flow.score, call.at)) alerts.push(this.#flowAlert(call, flow));
    return alerts;
  }

  #instructionAlert(call: CallItem, finding: InstructionFinding): McpAlert {
    const { item } = finding;
    const { tool } = call;
    const named = [finding.toolNamed ? `the tool "${tool}"` : undefined, ...finding.parameters.map((p) => `parameter "${p}"`)].filter((n) => n !== undefined).join(' and ');
    const because = [finding.cue === undefined ? undefined : `cue "${finding.cue}"`, finding.copied.length > 0 ? `supplied ${finding.copied.map((c) => `"${c.argument}"`).join(', ')}` : undefined].filter((b) => b !== undefined);
    return buildAlert({
      rule: { ...CROSS_SERVER_RULES.instruction, level: finding.score >= 3 ? 'high' : 'medium' },
      context: call.context,
      sources: [item.source, call.source],
      message: `Call to "${tool}" on server "${call.serverName}" follows content from server "${item.serverName}" (${describeItem(item)}) that named ${named}${because.length > 0 ? ` (${because.join('; ')})` : ''}: "${finding.excerpt}".`,
      details: {
        instructing: itemSummary(item),
        called: { event_id: call.source.id, server: call.serverName, server_id: call.serverId, tool },
        evidence: { tool_named: finding.toolNamed, parameters_named: finding.parameters, cue: finding.cue ?? null, copied_values: finding.copied, excerpt: finding.excerpt },
        score: finding.score,
      },
      matched: [{ field: 'gen_ai.tool.name', value: tool }, ...finding.copied.map((c) => ({ field: `gen_ai.tool.call.arguments.${c.argument}`, value: c.value }))],
    });
  }

  #flowAlert(call: CallItem, finding: FlowFinding): McpAlert {
    const { item } = finding;
    const { tool } = call;
    const evidence = [
      finding.placeholders.length > 0 ? `secret ${finding.placeholders.join(', ')}` : undefined,
      finding.sharedPassages > 0 ? `${finding.sharedPassages} copied passages (${Math.round(finding.containment * 100)}% of the call)` : undefined,
      finding.tokens.length > 0 ? `tokens ${finding.tokens.slice(0, 5).join(', ')}` : undefined,
      finding.urls.length > 0 ? `URLs ${finding.urls.slice(0, 3).join(', ')}` : undefined,
    ].filter((e) => e !== undefined);
    const weights = [finding.privateSource ? 'private source' : undefined, finding.sensitiveSink ? 'sensitive sink' : undefined, finding.instructedBy ? `"${call.serverName}" had named ${item.origin} in its own content` : undefined].filter((w) => w !== undefined);
    const sources: AlertSource[] = [item.source, ...(finding.instructedBy ? [finding.instructedBy.source] : []), call.source];
    const args = finding.arguments.map((a) => `"${a}"`).join(', ');
    return buildAlert({
      rule: { ...CROSS_SERVER_RULES.dataFlow, level: levelOfFlow(finding.score) },
      context: call.context,
      sources,
      message: `Data returned by server "${item.serverName}" (${describeItem(item)}) was sent to tool "${tool}" on server "${call.serverName}" in ${args}: ${evidence.join('; ')}${weights.length > 0 ? ` (${weights.join('; ')})` : ''}.`,
      details: {
        source: { ...itemSummary(item), private: finding.privateSource },
        sink: { event_id: call.source.id, server: call.serverName, server_id: call.serverId, tool, sensitive: finding.sensitiveSink, arguments: finding.arguments },
        evidence: {
          strength: finding.strength,
          placeholders: finding.placeholders.slice(0, MAX_LISTED_EVIDENCE),
          urls: finding.urls.slice(0, MAX_LISTED_EVIDENCE),
          tokens: finding.tokens.slice(0, MAX_LISTED_EVIDENCE),
          shared_passages: finding.sharedPassages,
          passage_containment: Math.round(finding.containment * 1000) / 1000,
        },
        ...(finding.instructedBy ? { instructed_by: itemSummary(finding.instructedBy) } : {}),
        score: finding.score,
      },
      matched: finding.arguments.map((a) => ({ field: `gen_ai.tool.call.arguments.${a}`, value: [...finding.placeholders, ...finding.tokens, ...finding.urls].join(' ') })),
    });
  }
}
