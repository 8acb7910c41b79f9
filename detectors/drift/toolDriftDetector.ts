/**
 * Tool drift, never silently rebaselined. Per server identity it pins every tool definition, the server's
 * instructions, and its prompts' and resources' descriptions. After the first listing, a new, changed or removed tool,
 * changed instructions, or a changed prompt or resource description becomes a pending change that alerts once in
 * every session that sees it, until `tapwire approve` approves or rejects it. A tool that disappears while a new one
 * with a similar description appears is reported as one rename-evasion alert. With an approved inventory that lists a
 * server's tool hashes, those hashes are the pins instead of whatever the server shows first.
 */
import { alertContextOf, alertSourceOf, buildAlert, type AlertRuleInfo, type AlertSource } from '../alertBuilder.js';
import { partitionOf, type Detector, type DetectorContext } from '../detector.js';
import type { Inventory } from '../inventory/inventory.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { diffDefinitions, summarizeDiff } from './definitionDiff.js';
import { descriptionSimilarity } from './descriptionSimilarity.js';
import { DriftLedger, REMOVED_HASH, type ChangeKind, type PendingChange, type Pin, type ServerProfile } from './driftLedger.js';
import { DRIFT_RULES } from './driftRules.js';
import { listingOf, pinKey, type Listing, type PinnedDefinition } from './pinnedDefinition.js';

export interface ToolDriftOptions {
  /** Approved inventory: its tool hashes replace trust on first use for the servers it lists them for. */
  inventory?: Inventory;
  /** Description similarity (0–1) from which a removed tool and an added one count as a rename (default 0.6). */
  renameSimilarity?: number;
  /** Sessions remembered per pending change, so each is alerted once (default 64). */
  alertedSessions?: number;
}

/** A difference between one listing and the pins, before any decision is applied. */
interface Change {
  key: string;
  change: ChangeKind;
  /** The definition presented now (added, changed). */
  presented?: PinnedDefinition;
  /** The pin it departs from (changed, removed), if the pin has a definition. */
  pin?: Pin;
  /** The hash it departs from: the pin's, or the inventory's. */
  pinnedHash?: string;
  kind: PinnedDefinition['kind'];
  name: string;
}

interface Rename {
  removed: Change;
  added: Change;
  similarity: number;
}

/** The name `tapwire approve SERVER ITEM` takes for a definition: a tool's name, else its key. */
export function approvalItem(kind: PinnedDefinition['kind'], name: string): string {
  return kind === 'tool' ? name : kind === 'instructions' ? 'instructions' : pinKey(kind, name);
}

function hashOf(change: Change): string {
  return change.presented?.hash ?? REMOVED_HASH;
}

/** The tool drift detector (partitioned by server identity). */
export class ToolDriftDetector implements Detector {
  readonly id = 'tapwire.tool-drift';
  readonly partitionBy = 'server' as const;
  private readonly renameSimilarity: number;
  private readonly alertedSessions: number;

  /** Options are fixed for the detector's life. */
  constructor(private readonly options: ToolDriftOptions = {}) {
    this.renameSimilarity = options.renameSimilarity ?? 0.6;
    this.alertedSessions = options.alertedSessions ?? 64;
  }

  /** Compares a listing (tools/list, prompts/list, resources lists, initialize) with the server's pins. */
  onEvent(event: McpEvent, context: DetectorContext): McpAlert[] {
    const listing = listingOf(event);
    if (!listing) return [];
    const ledger = new DriftLedger(context.state, partitionOf(event, 'server'));
    const known = ledger.profile();
    const profile: ServerProfile = { id: ledger.serverId, name: event.mcp.server.name, listed: known?.listed ?? [] };
    if (event.mcp.server.reported_name !== undefined) profile.reportedName = event.mcp.server.reported_name;
    const presentedNames = this.collectPages(ledger, event, listing);
    const changes = this.compare(ledger, listing, profile, event);
    if (presentedNames) changes.push(...this.removals(ledger, presentedNames));
    const alerts = this.settle(ledger, changes, event);
    if (!listing.more && !profile.listed.includes(listing.kind)) profile.listed = [...profile.listed, listing.kind];
    profile.tools = [...ledger.pinnedTools()].sort();
    ledger.setProfile(profile);
    return alerts;
  }

  /**
   * Joins the pages of a paginated tool listing within the session. Returns the names of the complete listing when
   * this response ends one that nothing truncated, else undefined (absence then proves nothing).
   */
  private collectPages(ledger: DriftLedger, event: McpEvent, listing: Listing): Set<string> | undefined {
    if (listing.kind !== 'tool') return undefined;
    const session = event.mcp.session.id;
    const earlier = ledger.pages(session);
    const names = [...(earlier?.names ?? []), ...listing.items.map((i) => i.name)];
    const truncated = listing.truncated || earlier?.truncated === true;
    if (listing.more) {
      ledger.setPages(session, { names, truncated });
      return undefined;
    }
    if (earlier) ledger.setPages(session, undefined);
    return truncated ? undefined : new Set(names);
  }

  private compare(ledger: DriftLedger, listing: Listing, profile: ServerProfile, event: McpEvent): Change[] {
    const firstListing = !profile.listed.includes(listing.kind);
    const expected = listing.kind === 'tool' ? this.options.inventory?.expectedTools(ledger.serverId) : undefined;
    const changes: Change[] = [];
    for (const item of listing.items) {
      const key = pinKey(item.kind, item.name);
      const pin = ledger.pin(key);
      const base = { key, presented: item, kind: item.kind, name: item.name };
      if (pin) {
        if (pin.hash !== item.hash) changes.push({ ...base, change: 'changed', pin, pinnedHash: pin.hash });
        else if (ledger.pending(key)) ledger.clearPending(key);
        continue;
      }
      if (expected) {
        const approved = expected[item.name];
        if (approved === item.hash) ledger.setPin(key, this.pinOf(item, 'inventory', event));
        else changes.push(approved === undefined ? { ...base, change: 'added' } : { ...base, change: 'changed', pinnedHash: approved });
        continue;
      }
      // Prompts and resources come and go with the user's data; only their descriptions are held to their pins.
      if (firstListing || listing.kind !== 'tool') ledger.setPin(key, this.pinOf(item, 'first-use', event));
      else changes.push({ ...base, change: 'added' });
    }
    return changes;
  }

  private removals(ledger: DriftLedger, presented: Set<string>): Change[] {
    const changes: Change[] = [];
    for (const name of ledger.pinnedTools()) {
      if (presented.has(name)) continue;
      const pin = ledger.pin(pinKey('tool', name));
      if (pin) changes.push({ key: pinKey('tool', name), change: 'removed', pin, pinnedHash: pin.hash, kind: 'tool', name });
    }
    const expected = this.options.inventory?.expectedTools(ledger.serverId) ?? {};
    for (const [name, hash] of Object.entries(expected)) {
      if (presented.has(name) || ledger.pin(pinKey('tool', name))) continue;
      changes.push({ key: pinKey('tool', name), change: 'removed', pinnedHash: hash, kind: 'tool', name });
    }
    return changes;
  }

  private pinOf(item: PinnedDefinition, source: Pin['source'], event: McpEvent): Pin {
    return { ...item, source, since: event['@timestamp'], eventId: event.event.id };
  }

  /** Pairs removed and added tools whose descriptions are alike (best pair first). */
  private renames(changes: readonly Change[]): Rename[] {
    const removed = changes.filter((c) => c.change === 'removed' && c.pin !== undefined);
    const added = changes.filter((c) => c.change === 'added' && c.kind === 'tool');
    const candidates: Rename[] = [];
    for (const r of removed) {
      for (const a of added) {
        const similarity = descriptionSimilarity(r.pin?.text ?? '', a.presented?.text ?? '');
        if (similarity >= this.renameSimilarity) candidates.push({ removed: r, added: a, similarity });
      }
    }
    candidates.sort((x, y) => y.similarity - x.similarity);
    const used = new Set<Change>();
    return candidates.filter((c) => {
      if (used.has(c.removed) || used.has(c.added)) return false;
      used.add(c.removed).add(c.added);
      return true;
    });
  }

  /** Applies recorded decisions, keeps the rest pending, and alerts each session once per pending change. */
  private settle(ledger: DriftLedger, changes: Change[], event: McpEvent): McpAlert[] {
    const session = event.mcp.session.id;
    const alerted = new Set<Change>();
    const rejected: { change: Change; at: string }[] = [];
    for (const change of changes) {
      const hash = hashOf(change);
      const decision = ledger.decision(change.key, hash);
      if (decision !== undefined) {
        if (decision.decision === 'approve') this.apply(ledger, change, event);
        // A rejection is no silence: the known-bad definition alerts every time it is served.
        else rejected.push({ change, at: decision.at });
        ledger.clearPending(change.key);
        continue;
      }
      const existing = ledger.pending(change.key);
      const pending: PendingChange =
        existing?.hash === hash
          ? { ...existing }
          : { key: change.key, kind: change.kind, name: change.name, change: change.change, hash, firstSeen: event['@timestamp'], eventId: event.event.id, sessions: [] };
      if (change.presented) pending.presented = change.presented;
      if (change.pinnedHash !== undefined) pending.pinnedHash = change.pinnedHash;
      if (!pending.sessions.includes(session)) {
        pending.sessions = [...pending.sessions, session].slice(-this.alertedSessions);
        alerted.add(change);
      }
      ledger.setPending(pending);
    }
    const alerts: McpAlert[] = [];
    const renames = this.renames(changes.filter((c) => alerted.has(c)));
    const renamed = new Set(renames.flatMap((r) => [r.removed, r.added]));
    for (const change of changes) if (alerted.has(change) && !renamed.has(change)) alerts.push(this.changeAlert(change, event));
    for (const rename of renames) alerts.push(this.renameAlert(rename, event));
    for (const { change, at } of rejected) alerts.push(this.rejectedAlert(change, at, event));
    return alerts;
  }

  private rejectedAlert(change: Change, rejectedAt: string, event: McpEvent): McpAlert {
    const server = event.mcp.server.name;
    const what = change.kind === 'tool' ? `tool "${change.name}"` : change.kind === 'instructions' ? 'instructions' : `${change.kind} "${change.name}"`;
    const diff = change.change === 'removed' ? undefined : diffDefinitions(change.name, change.pin, change.presented);
    const details: Record<string, unknown> = {
      drift: { item: change.kind, name: change.name, change: change.change, pinned_hash: change.pinnedHash ?? null, presented_hash: change.presented?.hash ?? null, rejected_at: rejectedAt },
    };
    if (diff && diff.unified !== '') details.diff = diff.unified;
    const context = change.kind === 'tool' ? { ...alertContextOf(event), toolName: change.name } : alertContextOf(event);
    return buildAlert({
      rule: DRIFT_RULES.rejectedServed,
      context,
      sources: this.sources(event, change.pin),
      discriminator: `${change.key}@${hashOf(change)}#rejected`,
      message: `MCP server "${server}" ${change.change === 'removed' ? `still lacks its pinned ${what}, a removal` : `serves ${what} in a definition`} rejected on ${rejectedAt}${diff ? `: ${summarizeDiff(diff)}` : ''}; the server keeps presenting known-bad content`,
      details,
    });
  }

  private apply(ledger: DriftLedger, change: Change, event: McpEvent): void {
    if (change.presented) ledger.setPin(change.key, this.pinOf(change.presented, 'approved', event));
    else ledger.unpin(change.key);
  }

  private sources(event: McpEvent, ...pins: (Pin | undefined)[]): AlertSource[] {
    const sources = [alertSourceOf(event)];
    for (const pin of pins) {
      if (pin?.eventId !== undefined && !sources.some((s) => s.id === pin.eventId)) sources.push({ id: pin.eventId, timestamp: pin.since });
    }
    return sources;
  }

  private changeAlert(change: Change, event: McpEvent): McpAlert {
    const server = event.mcp.server.name;
    const approve = `tapwire approve ${server} ${approvalItem(change.kind, change.name)}`;
    const what = change.kind === 'tool' ? `Tool "${change.name}"` : change.kind === 'instructions' ? 'The instructions' : `The ${change.kind} "${change.name}"`;
    const diff = change.change === 'removed' ? undefined : diffDefinitions(change.name, change.pin, change.presented);
    let rule: AlertRuleInfo;
    let message: string;
    if (change.change === 'added') {
      rule = DRIFT_RULES.toolAdded;
      const description = change.presented?.text.replace(/\s+/g, ' ').slice(0, 120) ?? '';
      message = `MCP server "${server}" lists a new tool "${change.name}" that is not among its pinned tools${description ? ` ("${description}")` : ''}; review it, then: ${approve}`;
    } else if (change.change === 'removed') {
      rule = DRIFT_RULES.toolRemoved;
      message = `MCP server "${server}" no longer lists its pinned tool "${change.name}"; accept with: ${approve}`;
    } else {
      rule = change.kind === 'tool' ? DRIFT_RULES.toolChanged : change.kind === 'instructions' ? DRIFT_RULES.instructionsChanged : DRIFT_RULES.descriptionChanged;
      const against = change.pin ? `its pinned definition of ${change.pin.since}` : 'the hash approved in the inventory';
      message = `${what} of MCP server "${server}" differs from ${against}: ${diff ? summarizeDiff(diff) : 'definition changed'}; review the diff, then: ${approve}`;
    }
    const details: Record<string, unknown> = {
      drift: { item: change.kind, name: change.name, change: change.change, pinned_hash: change.pinnedHash ?? null, presented_hash: change.presented?.hash ?? null },
      approve,
    };
    if (change.pin) (details.drift as Record<string, unknown>).pinned = { since: change.pin.since, source: change.pin.source, event_id: change.pin.eventId ?? null };
    if (diff && diff.unified !== '') details.diff = diff.unified;
    const context = change.kind === 'tool' ? { ...alertContextOf(event), toolName: change.name } : alertContextOf(event);
    return buildAlert({ rule, context, sources: this.sources(event, change.pin), discriminator: `${change.key}@${hashOf(change)}`, message, details });
  }

  private renameAlert(rename: Rename, event: McpEvent): McpAlert {
    const server = event.mcp.server.name;
    const from = rename.removed.name;
    const to = rename.added.name;
    const diff = diffDefinitions(`${from} → ${to}`, rename.removed.pin, rename.added.presented);
    const approve = `tapwire approve ${server} ${to} && tapwire approve ${server} ${from}`;
    const similarity = Math.round(rename.similarity * 100) / 100;
    return buildAlert({
      rule: DRIFT_RULES.renameEvasion,
      context: { ...alertContextOf(event), toolName: to },
      sources: this.sources(event, rename.removed.pin),
      discriminator: `${rename.removed.key}@${REMOVED_HASH}|${rename.added.key}@${hashOf(rename.added)}`,
      message: `MCP server "${server}" dropped its pinned tool "${from}" and added "${to}" with a similar description (similarity ${similarity}): ${summarizeDiff(diff)}; review, then: ${approve}`,
      details: { drift: { item: 'tool', removed: from, added: to, similarity, pinned_hash: rename.removed.pinnedHash ?? null, presented_hash: rename.added.presented?.hash ?? null }, diff: diff.unified, approve },
    });
  }
}
