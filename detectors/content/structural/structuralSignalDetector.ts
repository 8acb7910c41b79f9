/**
 * Tier 1 as a detector: every description-like text and every piece of returned content of an event is
 * normalized (textNormalization.ts), read by the structural detectors (structuralSignals.ts), and each attack
 * they find becomes one alert naming the cues, their spans and the encodings undone.
 *
 * The fleet-wide tool-name index (shadowing, own-tool prerequisites, peer claim rates) is state in a partition
 * of its own, FLEET_PARTITION, like the runtime's: the detector is partitioned by host session, so it runs in
 * the same runtime as the Sigma rules (events topic under Kafka), and each runtime's store holds the listings of
 * every server its events came from. Embedded (detect, up, replay, demo) that is the whole fleet. Under Kafka a
 * store belongs to one events-topic partition, so the index holds the servers of that partition's host sessions:
 * alerts depend on the partition count, never on how many workers share the partitions, and a shadower and its
 * target that are only ever used by hosts in different partitions are not compared (crossServer still compares
 * them within any host session that uses both). A fleet index shared by every partition would need its own
 * topic keyed by tool name; that is left for when partition-spanning shadowing is measured to matter.
 * A server's listing names foreign tools only once the target server is in the index; since hosts list tools at
 * every session start, a shadower listed before its target is caught at its next listing.
 */
import { alertContextOf, alertSourceOf, buildAlert } from '../../alertBuilder.js';
import type { Detector, DetectorContext } from '../../detector.js';
import type { McpAlert } from '../../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../../pipeline/types/mcpEvent.js';
import type { StateStore } from '../../stateStore.js';
import { eventTexts } from '../model/eventTexts.js';
import type { NormalizationFinding } from '../textNormalization.js';
import { cachedReading, normalizedText, readingSignals } from '../textReadings.js';
import { documentationContext, FleetTextIndex } from './fleetTextIndex.js';
import { preferenceClaimWeight } from './preferenceClaims.js';
import type { StructuralSignal } from './structuralDetector.js';
import { structuralRuleOf } from './structuralRules.js';

export const FLEET_PARTITION = '_content_fleet';
const TOOLS_NS = 'content-structure.tools';
const META_NS = 'content-structure.meta';
const GENERATION = 'generation';
/** How many servers the store holds listings of (kept beside them, so a new listing needs no scan). */
const SERVER_COUNT = 'servers';
/** Servers and tools per server the index keeps (the least recently listed servers go first). */
const MAX_SERVERS = 4096;
/** An eviction goes down to this many, so the scan it needs happens once per 512 new servers, not for each. */
const KEPT_AFTER_EVICTION = MAX_SERVERS - MAX_SERVERS / 8;
const MAX_TOOLS = 512;
const MAX_SIGNALS_SHOWN = 8;
/** Encodings that hide text from a reader (NFKC alone is ordinary typography). */
const HIDING = new Set<NormalizationFinding['kind']>(['unicode_tags', 'zero_width', 'bidi_control', 'homoglyph', 'url_encoded', 'base64']);

interface ServerTools {
  at: number;
  tools: { name: string; description: string }[];
}

/**
 * The fleet index of one store. A new server's listing is added to the index in place; a changed listing or an
 * eviction makes the next read rebuild it from the store. Both keep per-listing work independent of the fleet's
 * size (a rebuild or a scan of every listing per new server made a fleet of thousands of servers quadratic).
 */
class FleetCache {
  private generation = -1;
  private index = new FleetTextIndex();

  get(state: StateStore): FleetTextIndex {
    const generation = state.get<number>(FLEET_PARTITION, META_NS, GENERATION) ?? 0;
    if (generation !== this.generation) {
      this.index = new FleetTextIndex();
      // A fleet's servers share most descriptions: each distinct one is weighed once per rebuild.
      const weights = new Map<string, number>();
      const weightOf = (description: string): number => {
        let weight = weights.get(description);
        if (weight === undefined) weights.set(description, (weight = preferenceClaimWeight(description)));
        return weight;
      };
      for (const [server, entry] of state.entries<ServerTools>(FLEET_PARTITION, TOOLS_NS)) for (const tool of entry.tools) this.index.addTool(server, tool.name, tool.description, weightOf(tool.description));
      this.generation = generation;
    }
    return this.index;
  }

  /** Records a server's listing (if it changed) and bumps the generation. */
  record(state: StateStore, server: string, tools: ServerTools['tools'], now: number): void {
    const previous = state.get<ServerTools>(FLEET_PARTITION, TOOLS_NS, server);
    if (previous && sameTools(previous.tools, tools)) return;
    state.put(FLEET_PARTITION, TOOLS_NS, server, { at: now, tools });
    const generation = state.get<number>(FLEET_PARTITION, META_NS, GENERATION) ?? 0;
    let count = state.get<number>(FLEET_PARTITION, META_NS, SERVER_COUNT) ?? state.entries<ServerTools>(FLEET_PARTITION, TOOLS_NS).length - (previous ? 0 : 1);
    if (!previous) count++;
    let evicted = false;
    if (count > MAX_SERVERS) {
      const held = state.entries<ServerTools>(FLEET_PARTITION, TOOLS_NS);
      const oldest = held.sort(([, a], [, b]) => a.at - b.at).slice(0, held.length - KEPT_AFTER_EVICTION);
      for (const [key] of oldest) state.delete(FLEET_PARTITION, TOOLS_NS, key);
      count = held.length - oldest.length;
      evicted = oldest.length > 0;
    }
    state.put(FLEET_PARTITION, META_NS, SERVER_COUNT, count);
    state.put(FLEET_PARTITION, META_NS, GENERATION, generation + 1);
    if (!previous && !evicted && this.generation === generation) {
      for (const tool of tools) this.index.addTool(server, tool.name, tool.description);
      this.generation = generation + 1;
    }
  }
}

/**
 * Whether a listing is the one recorded (as their JSON would say: a host lists the same tools at every session start,
 * and serializing both for each listing cost more than the rest of recording it). Names that are not strings
 * (malformed listings) are compared as JSON.
 */
function sameTools(recorded: ServerTools['tools'], listed: ServerTools['tools']): boolean {
  if (recorded.length !== listed.length) return false;
  for (let i = 0; i < listed.length; i++) {
    const a = recorded[i]!;
    const b = listed[i]!;
    if (typeof a.name !== 'string' || typeof b.name !== 'string') return JSON.stringify(recorded) === JSON.stringify(listed);
    if (a.name !== b.name || a.description !== b.description) return false;
  }
  return true;
}

/**
 * The listed tools of a tools/list response, normalized, for the fleet index. The index needs a description's
 * normalized text only: reading it structurally too (cachedReading) would run every tier-1 detector on it.
 */
function listedTools(event: McpEvent): ServerTools['tools'] | undefined {
  if (event.mcp.tools === undefined) return undefined;
  return event.mcp.tools.slice(0, MAX_TOOLS).map((tool) => ({ name: tool.name, description: normalizedText(tool.description ?? '').text.slice(0, 2048) }));
}

export class StructuralSignalDetector implements Detector {
  readonly id = 'tapwire.content-structure';
  readonly partitionBy = 'host_session' as const;
  readonly #fleet = new FleetCache();

  onEvent(event: McpEvent, { state, now }: DetectorContext): McpAlert[] {
    if (event.mcp.direction !== 'server_to_client') return [];
    const texts = eventTexts(event);
    if (texts.length === 0) return [];
    const server = event.mcp.server.name;
    const tools = listedTools(event);
    if (tools !== undefined) this.#fleet.record(state, server, tools, now);
    const fleet = texts.some((t) => t.head === 'documentation') ? this.#fleet.get(state) : undefined;
    const alerts: McpAlert[] = [];
    for (const text of texts) {
      const reading = cachedReading(text.text, text.head);
      // Without the fleet the context is empty: the reading's own signals (judged once per distinct text) are these.
      const signals = fleet ? readingSignals(reading, documentationContext(fleet, server, text.name)) : readingSignals(reading);
      if (signals.length === 0) continue;
      const byAttack = new Map<string, StructuralSignal[]>();
      for (const signal of signals) byAttack.set(signal.attack, [...(byAttack.get(signal.attack) ?? []), signal]);
      const hidden = reading.findings.filter((f) => HIDING.has(f.kind));
      for (const [attack, found] of byAttack) alerts.push(this.#alert(event, text.field, text.name, attack, found, hidden));
    }
    return alerts;
  }

  #alert(event: McpEvent, field: string, name: string | undefined, attack: string, signals: StructuralSignal[], hidden: NormalizationFinding[]): McpAlert {
    const rule = structuralRuleOf(attack, hidden.length > 0);
    const where = name === undefined ? field : `${field.replace(/\[.*\]$/, '')} "${name}"`;
    const cues = [...new Set(signals.map((s) => s.id))];
    const encodings = hidden.length === 0 ? '' : `; hidden by ${hidden.map((f) => f.kind).join(', ')}`;
    return buildAlert({
      rule,
      context: alertContextOf(event),
      sources: [alertSourceOf(event)],
      discriminator: `${field}\n${attack}`,
      message: `${rule.name}: ${where} on MCP server "${event.mcp.server.name}" — ${cues.join(', ')}: "${signals[0]!.evidence}"${encodings}.`,
      matched: signals.slice(0, MAX_SIGNALS_SHOWN).map((s) => ({ field, value: s.evidence })),
      details: {
        structure: {
          attack,
          field,
          ...(name === undefined ? {} : { name }),
          signals: signals.slice(0, MAX_SIGNALS_SHOWN).map((s) => ({ cue: s.id, start: s.start, end: s.end, evidence: s.evidence })),
          normalization: hidden.map((f) => ({ kind: f.kind, count: f.count, evidence: f.evidence })),
        },
      },
    });
  }
}
