/**
 * Where drift detection keeps its memory, per server identity (the state partition): the pins, the changes waiting
 * for a decision, the decisions `tapwire approve` records, and what the server calls itself. Decisions are written
 * only by `tapwire approve`, never by the detector, so an approval can land while a worker is running without either
 * overwriting the other; the detector applies a decision the next time the server presents that definition.
 */
import type { StateStore } from '../stateStore.js';
import type { PinKind, PinnedDefinition } from './pinnedDefinition.js';

const NS = {
  pins: 'drift.pins',
  pending: 'drift.pending',
  decisions: 'drift.decisions',
  profile: 'drift.profile',
  pages: 'drift.pages',
} as const;

/** A trusted definition: seen first (trust on first use), listed in the approved inventory, or approved. */
export interface Pin extends PinnedDefinition {
  source: 'first-use' | 'inventory' | 'approved';
  /** Event time it was pinned. */
  since: string;
  /** The event that presented it, when one did. */
  eventId?: string;
}

export type ChangeKind = 'added' | 'changed' | 'removed';

/** The hash a removal is decided under. */
export const REMOVED_HASH = 'removed';

/** A presented definition that differs from its pin and waits for `tapwire approve` (or --reject). */
export interface PendingChange {
  key: string;
  kind: PinKind;
  name: string;
  change: ChangeKind;
  /** Hash of the presented definition, or REMOVED_HASH. */
  hash: string;
  presented?: PinnedDefinition;
  /** The pinned hash it differs from (the inventory's, when only a hash is known). */
  pinnedHash?: string;
  firstSeen: string;
  eventId: string;
  /** Sessions already alerted about this change, most recent last. */
  sessions: string[];
}

export type DecisionKind = 'approve' | 'reject';

/** An operator's decision on one presented definition (key and hash). */
export interface Decision {
  decision: DecisionKind;
  at: string;
}

/** What the server calls itself, and which kinds of listing it has presented completely at least once. */
export interface ServerProfile {
  id: string;
  name: string;
  reportedName?: string;
  listed: PinKind[];
  /** Names of the pinned tools, so a listing is checked for removals without reading every pin. */
  tools?: string[];
}

/** Tool names seen on the earlier pages of a paginated listing in one session. */
export interface ListingPages {
  names: string[];
  truncated: boolean;
}

const TOOL_PREFIX = 'tool:';

/** Typed access to one server's drift state. */
export class DriftLedger {
  private toolNames: Set<string> | undefined;

  /** Reads and writes `state` in the partition of `serverId`. */
  constructor(
    private readonly state: StateStore,
    readonly serverId: string,
  ) {}

  /** Names of the pinned tools (from the profile; from the pins themselves for a profile that predates the list). */
  pinnedTools(): Set<string> {
    this.toolNames ??= new Set(this.profile()?.tools ?? this.pins().filter((p) => p.kind === 'tool').map((p) => p.name));
    return this.toolNames;
  }

  /** The pin of a definition key, if any. */
  pin(key: string): Pin | undefined {
    return this.state.get<Pin>(this.serverId, NS.pins, key);
  }

  /** Every pin, in key order. */
  pins(): Pin[] {
    return this.state.entries<Pin>(this.serverId, NS.pins).map(([, pin]) => pin);
  }

  /** Pins a definition. */
  setPin(key: string, pin: Pin): void {
    this.state.put(this.serverId, NS.pins, key, pin);
    if (pin.kind === 'tool') this.pinnedTools().add(pin.name);
  }

  /** Removes a pin (an approved removal). */
  unpin(key: string): void {
    this.state.delete(this.serverId, NS.pins, key);
    if (key.startsWith(TOOL_PREFIX)) this.pinnedTools().delete(key.slice(TOOL_PREFIX.length));
  }

  /** The change waiting for a decision on a key, if any. */
  pending(key: string): PendingChange | undefined {
    return this.state.get<PendingChange>(this.serverId, NS.pending, key);
  }

  /** Every change waiting for a decision. */
  pendingChanges(): PendingChange[] {
    return this.state.entries<PendingChange>(this.serverId, NS.pending).map(([, change]) => change);
  }

  /** Records (or updates) a waiting change. */
  setPending(change: PendingChange): void {
    this.state.put(this.serverId, NS.pending, change.key, change);
  }

  /** Drops a waiting change. */
  clearPending(key: string): void {
    this.state.delete(this.serverId, NS.pending, key);
  }

  /** The decision recorded for a presented definition, if any. */
  decision(key: string, hash: string): Decision | undefined {
    return this.state.get<Decision>(this.serverId, NS.decisions, `${key}@${hash}`);
  }

  /** Records a decision (only `tapwire approve` calls this). */
  decide(key: string, hash: string, decision: Decision): void {
    this.state.put(this.serverId, NS.decisions, `${key}@${hash}`, decision);
  }

  /** The server's profile, if it has been seen. */
  profile(): ServerProfile | undefined {
    return this.state.get<ServerProfile>(this.serverId, NS.profile, 'server');
  }

  /** Stores the server's profile. */
  setProfile(profile: ServerProfile): void {
    this.state.put(this.serverId, NS.profile, 'server', profile);
  }

  /** Earlier pages of a session's paginated tool listing. */
  pages(sessionId: string): ListingPages | undefined {
    return this.state.get<ListingPages>(this.serverId, NS.pages, sessionId);
  }

  /** Stores (or, with undefined, drops) the earlier pages of a session's listing. */
  setPages(sessionId: string, pages: ListingPages | undefined): void {
    if (pages === undefined) this.state.delete(this.serverId, NS.pages, sessionId);
    else this.state.put(this.serverId, NS.pages, sessionId, pages);
  }

  /** The ledgers of every server with a drift profile. */
  static all(state: StateStore): DriftLedger[] {
    return state.partitions(NS.profile).map((serverId) => new DriftLedger(state, serverId));
  }
}
