/**
 * What the cross-server detector remembers about one host session, in that session's partition: the
 * newest content servers returned and the newest calls made (bounded, time-limited windows), each
 * server's tool listing, and which findings were already reported. Calls are kept as well as content
 * because the taps of different servers publish independently: a call can reach the bus before the
 * result that caused it, so a pair is judged when its second event arrives, in event-time order.
 * A host session idle past the configured time is forgotten as a whole.
 */
import type { AlertContext, AlertSource } from '../alertBuilder.js';
import { CappedNamespace, type CappedNamespaceSpec } from '../cappedNamespace.js';
import type { StateStore } from '../stateStore.js';
import type { ToolHints } from '../toolTraits.js';
import type { CrossServerConfig } from './crossServerConfig.js';
import type { ArgumentString, ContentKind } from './returnedContent.js';
import type { TaintFeatures } from './taintFeatures.js';

const ID = 'tapwire.cross-server';
const META_NAMESPACE = `${ID}/meta`;
const META_KEY = 'meta';
/** Item keys sort in arrival order. */
const ITEM_KEY_DIGITS = 12;

/** Content one server returned, as kept for later calls to be compared with. */
export interface ContentItem {
  at: number;
  source: AlertSource;
  serverId: string;
  serverName: string;
  kind: ContentKind;
  origin?: string;
  /** The start of the content, for instruction matching. */
  text: string;
  taint: TaintFeatures;
}

/** A tool call, as kept to be judged against content that arrives after it. */
export interface CallItem {
  at: number;
  source: AlertSource;
  context: AlertContext;
  serverId: string;
  serverName: string;
  tool: string;
  /** Argument strings, bounded. */
  arguments: ArgumentString[];
}

/** A tool as a listing showed it: its name, hash, hints, parameter names, and its descriptive text. */
export interface ListedTool {
  name: string;
  hash: string;
  hints: ToolHints;
  params: string[];
  /** Description and parameter descriptions, bounded. */
  text: string;
}

/** A server's latest tool listing (and initialize instructions) in the host session. */
export interface ServerListing {
  serverId: string;
  serverName: string;
  reportedName?: string;
  at: number;
  source?: AlertSource;
  context?: AlertContext;
  tools: ListedTool[];
  instructions?: string;
  instructionsSource?: AlertSource;
  instructionsContext?: AlertContext;
}

interface SessionMeta {
  lastSeen: number;
  nextItem: number;
  nextCall: number;
}

interface Reported {
  at: number;
  /** The score of the finding reported (strongerReport); absent for findings reported once whatever their score. */
  score?: number;
}

/** The memory of one host session's partition. */
export class HostSessionMemory {
  readonly #state: StateStore;
  readonly #partition: string;
  readonly #items: CappedNamespace<ContentItem>;
  readonly #calls: CappedNamespace<CallItem>;
  readonly #listings: CappedNamespace<ServerListing>;
  readonly #reported: CappedNamespace<Reported>;

  /** The memory of `partition`; cheap to create per event. */
  constructor(state: StateStore, partition: string, config: CrossServerConfig) {
    this.#state = state;
    this.#partition = partition;
    const specs = namespaceSpecs(config);
    this.#items = new CappedNamespace(state, partition, specs.items);
    this.#calls = new CappedNamespace(state, partition, specs.calls);
    this.#listings = new CappedNamespace(state, partition, specs.listings);
    this.#reported = new CappedNamespace(state, partition, specs.reported);
  }

  /** Adds a server's returned content to the window (the oldest leaves past the cap). */
  addContent(item: ContentItem): void {
    const meta = this.#touch(item.at);
    this.#items.put(String(meta.nextItem).padStart(ITEM_KEY_DIGITS, '0'), item, false);
    this.#state.put(this.#partition, META_NAMESPACE, META_KEY, { ...meta, nextItem: meta.nextItem + 1 });
  }

  /** Adds a call to the window (the oldest leaves past the cap). */
  addCall(call: CallItem): void {
    const meta = this.#touch(call.at);
    this.#calls.put(String(meta.nextCall).padStart(ITEM_KEY_DIGITS, '0'), call, false);
    this.#state.put(this.#partition, META_NAMESPACE, META_KEY, { ...meta, nextCall: meta.nextCall + 1 });
  }

  /** Content returned between `from` and `to` (event time, inclusive), in arrival order. */
  contentsBetween(from: number, to: number): ContentItem[] {
    return this.#items.entries().map(([, item]) => item).filter((item) => item.at >= from && item.at <= to);
  }

  /** Calls made between `from` and `to` (event time, inclusive), in arrival order. */
  callsBetween(from: number, to: number): CallItem[] {
    return this.#calls.entries().map(([, call]) => call).filter((call) => call.at >= from && call.at <= to);
  }

  /** The latest listing of a server. */
  listing(serverId: string): ServerListing | undefined {
    return this.#listings.get(serverId);
  }

  /** Every server's latest listing. */
  listings(): ServerListing[] {
    return this.#listings.entries().map(([, listing]) => listing);
  }

  /** Stores a server's listing, replacing the previous one. */
  putListing(listing: ServerListing): void {
    const existed = this.#listings.get(listing.serverId) !== undefined;
    this.#state.put(this.#partition, META_NAMESPACE, META_KEY, this.#touch(listing.at));
    this.#listings.put(listing.serverId, listing, existed);
  }

  /** Whether `key` is reported for the first time in this host session; remembers it. */
  firstReport(key: string, now: number): boolean {
    if (this.#reported.get(key) !== undefined) return false;
    this.#reported.put(key, { at: now }, false);
    return true;
  }

  /**
   * Whether a finding scored `score` under `key` is the first reported in this host session, or stronger than the one
   * that was; remembers it. Evidence can reach the bus after the call it explains (a tap starved of CPU hands its
   * session off, recorded once the other servers' sessions are): judged as it arrives, the first source to score
   * enough would otherwise stand for the call, and a stronger one arriving after it would go unreported.
   */
  strongerReport(key: string, score: number, now: number): boolean {
    const previous = this.#reported.get(key);
    if (previous !== undefined && (previous.score === undefined || previous.score >= score)) return false;
    this.#reported.put(key, { at: now, score }, previous !== undefined);
    return true;
  }

  #touch(now: number): SessionMeta {
    const meta = this.#state.get<SessionMeta>(this.#partition, META_NAMESPACE, META_KEY) ?? { lastSeen: now, nextItem: 0, nextCall: 0 };
    return { ...meta, lastSeen: Math.max(meta.lastSeen, now) };
  }

  /** Forgets host sessions idle for config.idleMs, and content and calls older than config.windowMs in the others. */
  static expire(state: StateStore, config: CrossServerConfig, now: number): void {
    const specs = namespaceSpecs(config);
    for (const partition of state.partitions(META_NAMESPACE)) {
      const meta = state.get<SessionMeta>(partition, META_NAMESPACE, META_KEY);
      const items = new CappedNamespace(state, partition, specs.items);
      const calls = new CappedNamespace(state, partition, specs.calls);
      if (meta !== undefined && meta.lastSeen >= now - config.idleMs) {
        items.expire(now - config.windowMs);
        calls.expire(now - config.windowMs);
        continue;
      }
      items.clear();
      calls.clear();
      new CappedNamespace(state, partition, specs.listings).clear();
      new CappedNamespace(state, partition, specs.reported).clear();
      state.delete(partition, META_NAMESPACE, META_KEY);
    }
  }
}

interface NamespaceSpecs {
  items: CappedNamespaceSpec<ContentItem>;
  calls: CappedNamespaceSpec<CallItem>;
  listings: CappedNamespaceSpec<ServerListing>;
  reported: CappedNamespaceSpec<Reported>;
}

/** The specs of each configuration, made once: the memory is created per event. */
const specsByConfig = new WeakMap<CrossServerConfig, NamespaceSpecs>();

function namespaceSpecs(config: CrossServerConfig): NamespaceSpecs {
  let specs = specsByConfig.get(config);
  if (specs === undefined) {
    specs = specsOf(config);
    specsByConfig.set(config, specs);
  }
  return specs;
}

function specsOf(config: CrossServerConfig): NamespaceSpecs {
  return {
    items: { namespace: `${ID}/content`, cap: config.maxItems, lastUsed: (item) => item.at },
    calls: { namespace: `${ID}/call`, cap: config.maxItems, lastUsed: (call) => call.at },
    listings: { namespace: `${ID}/listing`, cap: config.maxServersPerHostSession, lastUsed: (listing) => listing.at },
    reported: { namespace: `${ID}/reported`, cap: config.maxReported, lastUsed: (reported) => reported.at },
  };
}
