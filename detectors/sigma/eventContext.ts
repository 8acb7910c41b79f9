/**
 * One event as the rules see it: field values resolved once and cached for every rule that asks, in the
 * forms matchers need (raw, scalar leaves, strings, lower-cased strings), plus the keyword-search text.
 */
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import type { FieldPath } from './fieldPath.js';
import { LeafCollector, type Leaf, type ScanLimits, type ScanReport } from './scanLimits.js';

/** Per-event cache of resolved field values; create one per event and share it across rules. */
export class EventContext {
  private readonly rawValues = new Map<string, readonly unknown[]>();
  // Most events only need some of these forms; the maps are made on first use.
  private leafValues: Map<string, readonly Leaf[]> | undefined;
  private stringValues: Map<string, readonly string[]> | undefined;
  private lowerValues: Map<string, readonly string[]> | undefined;
  private keywordValues: readonly string[] | undefined;
  private lowerKeywordValues: readonly string[] | undefined;
  /** Set when a field the rules asked for was cut by the scan limits. */
  readonly report: ScanReport = { truncated: false };

  /** Wraps the event; `limits` bound what is read from it. */
  constructor(
    readonly event: McpEvent,
    readonly limits: ScanLimits,
  ) {}

  /** The values at the path as they are (objects included); empty when the field is missing. */
  raw(path: FieldPath): readonly unknown[] {
    let values = this.rawValues.get(path.name);
    if (values === undefined) {
      values = path.derived ? path.derived(this.event, this.limits, this.report) : path.resolve(this.event, []);
      this.rawValues.set(path.name, values);
    }
    return values;
  }

  /** The scalar values at the path; an object contributes every scalar beneath it (as Elasticsearch's flattened type does). */
  leaves(path: FieldPath): readonly Leaf[] {
    this.leafValues ??= new Map();
    let values = this.leafValues.get(path.name);
    if (values === undefined) {
      const raw = this.raw(path);
      // The common case, a few short scalars, needs no copy.
      if (raw.length <= this.limits.maxValues && raw.every((v) => v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= this.limits.maxChars))) {
        values = raw as readonly Leaf[];
      } else {
        const collector = new LeafCollector(this.limits, false, this.report);
        for (const value of raw) collector.addTree(value);
        values = collector.values;
      }
      this.leafValues.set(path.name, values);
    }
    return values;
  }

  /** The non-null scalar values at the path as strings, lower-cased when `lower` (for case-insensitive matching). */
  strings(path: FieldPath, lower: boolean): readonly string[] {
    const cache = lower ? (this.lowerValues ??= new Map()) : (this.stringValues ??= new Map());
    let values = cache.get(path.name);
    if (values === undefined) {
      if (lower) {
        values = this.strings(path, false).map((s) => s.toLowerCase());
      } else {
        const leaves = this.leaves(path);
        values = leaves.every((v) => typeof v === 'string') ? (leaves as readonly string[]) : leaves.filter((v) => v !== null).map(String);
      }
      cache.set(path.name, values);
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
