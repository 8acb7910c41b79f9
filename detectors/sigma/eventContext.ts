/**
 * One event as the rules see it: field values resolved once and cached for every rule that asks, in the
 * forms matchers need (raw, scalar leaves, strings, lower-cased strings), plus the keyword-search text.
 */
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { SharedEventWork } from '../sharedEventWork.js';
import type { FieldPath } from './fieldPath.js';
import { LeafCollector, type Leaf, type ScanLimits, type ScanReport } from './scanLimits.js';

// Loops, not every() with a closure: these run for each field of each event, and most fields hold one or no value.
function allShortScalars(values: readonly unknown[], maxChars: number): boolean {
  for (const v of values) if (!(v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= maxChars))) return false;
  return true;
}

function allStrings(values: readonly unknown[]): boolean {
  for (const v of values) if (typeof v !== 'string') return false;
  return true;
}

/** Per-event cache of resolved field values; create one per event and share it across rules. */
export class EventContext {
  // Indexed by FieldPath.slot (one number per field name): an event meets dozens of fields, and an array read is
  // what keeps the per-event cost of a large pack low.
  private readonly rawValues: (readonly unknown[] | undefined)[] = [];
  // Most events only need some of these forms; the arrays are made on first use.
  private leafValues: (readonly Leaf[] | undefined)[] | undefined;
  private stringValues: (readonly string[] | undefined)[] | undefined;
  private lowerValues: (readonly string[] | undefined)[] | undefined;
  private keywordValues: readonly string[] | undefined;
  private lowerKeywordValues: readonly string[] | undefined;
  /** Set when a field the rules asked for was cut by the scan limits. */
  readonly report: ScanReport = { truncated: false };

  /** Wraps the event; `limits` bound what is read from it; `shared` is the event's work shared with the detectors. */
  constructor(
    readonly event: McpEvent,
    readonly limits: ScanLimits,
    readonly shared: SharedEventWork,
  ) {}

  /** The values at the path as they are (objects included); empty when the field is missing. */
  raw(path: FieldPath): readonly unknown[] {
    let values = this.rawValues[path.slot];
    if (values === undefined) {
      values = path.derived ? path.derived(this.event, this.limits, this.report, this.shared) : path.resolve(this.event, []);
      this.rawValues[path.slot] = values;
    }
    return values;
  }

  /** The scalar values at the path; an object contributes every scalar beneath it (as Elasticsearch's flattened type does). */
  leaves(path: FieldPath): readonly Leaf[] {
    this.leafValues ??= [];
    let values = this.leafValues[path.slot];
    if (values === undefined) {
      const raw = this.raw(path);
      // The common case, a few short scalars, needs no copy.
      if (raw.length <= this.limits.maxValues && allShortScalars(raw, this.limits.maxChars)) {
        values = raw as readonly Leaf[];
      } else {
        const collector = new LeafCollector(this.limits, false, this.report);
        for (const value of raw) collector.addTree(value);
        values = collector.values;
      }
      this.leafValues[path.slot] = values;
    }
    return values;
  }

  /** The non-null scalar values at the path as strings, lower-cased when `lower` (for case-insensitive matching). */
  strings(path: FieldPath, lower: boolean): readonly string[] {
    const cache = lower ? (this.lowerValues ??= []) : (this.stringValues ??= []);
    let values = cache[path.slot];
    if (values === undefined) {
      if (lower) {
        const originals = this.strings(path, false);
        values = originals.length === 0 ? originals : originals.map((s) => s.toLowerCase());
      } else {
        const leaves = this.leaves(path);
        values = allStrings(leaves) ? (leaves as readonly string[]) : leaves.filter((v) => v !== null).map(String);
      }
      cache[path.slot] = values;
    }
    return values;
  }

  /** Every string value in the event (bounded), for keyword search. */
  keywords(lower: boolean): readonly string[] {
    if (this.keywordValues === undefined) {
      const collector = new LeafCollector(this.limits, true, this.report);
      collector.addTree(this.event);
      this.keywordValues = collector.values as string[];
    }
    if (!lower) return this.keywordValues;
    this.lowerKeywordValues ??= this.keywordValues.map((s) => s.toLowerCase());
    return this.lowerKeywordValues;
  }
}
