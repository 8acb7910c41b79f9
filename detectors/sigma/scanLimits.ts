/**
 * Bounds on how much of one event the engine reads. A rule must see every value the collector keeps (a collector
 * keeps 64 levels of nesting and a payload of a few hundred KB), so the bounds are a work budget, not a shape: the
 * walk is iterative (no depth limit, no stack to overflow) and stops only when it has visited more nodes or read
 * more characters than an event a collector can produce holds — a hand-made multi-MB event in `replay`. When a
 * walk stops early, the collector says so (`truncated`), the engine counts the event and marks its alerts: a value
 * the rules did not read is never silent.
 */

export interface ScanLimits {
  /** Most scalar values read from one field (or, for keyword search, from the whole event). */
  maxValues: number;
  /** Most characters of string values read from one field (or the whole event, for keywords). */
  maxChars: number;
  /** Most nodes (objects, arrays and scalars) one walk visits: the time bound. */
  maxNodes: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = {
  maxValues: 1_000_000,
  maxChars: 16_777_216,
  maxNodes: 2_000_000,
};

/** Whether any walk over one event stopped at a budget (shared by the walks of one event). */
export interface ScanReport {
  truncated: boolean;
}

/** A scalar an event field can hold. */
export type Leaf = string | number | boolean | null;

/** Gathers scalar values within the scan limits; strings are cut to the remaining character budget. */
export class LeafCollector {
  readonly values: Leaf[] = [];
  private chars = 0;
  private nodes = 0;

  /** With `stringsOnly`, numbers, booleans and nulls are skipped; a cut walk is recorded in `report`. */
  constructor(
    private readonly limits: ScanLimits,
    private readonly stringsOnly: boolean,
    private readonly report: ScanReport = { truncated: false },
  ) {}

  /** Whether a budget cut a walk short: some value was not read. */
  get truncated(): boolean {
    return this.report.truncated;
  }

  set truncated(value: boolean) {
    if (value) this.report.truncated = true;
  }

  /** Whether a limit is reached and further values are ignored. */
  get full(): boolean {
    return this.values.length >= this.limits.maxValues || this.chars >= this.limits.maxChars || this.nodes >= this.limits.maxNodes;
  }

  /** Adds one value if it is a scalar. */
  add(value: unknown): void {
    if (value === undefined) return;
    if (this.full) {
      this.truncated = true;
      return;
    }
    this.nodes++;
    if (typeof value === 'string') {
      const room = this.limits.maxChars - this.chars;
      const kept = value.length > room ? value.slice(0, room) : value;
      if (kept.length < value.length) this.truncated = true;
      this.chars += kept.length;
      this.values.push(kept);
    } else if (!this.stringsOnly && (value === null || typeof value === 'number' || typeof value === 'boolean')) {
      this.values.push(value);
    }
  }

  /** Adds every scalar under `root`, depth first through arrays and objects, in document order. */
  addTree(root: unknown): void {
    const stack: unknown[] = [root];
    while (stack.length > 0) {
      const node = stack.pop();
      if (typeof node !== 'object' || node === null) {
        this.add(node);
        if (this.truncated) return;
        continue;
      }
      if (this.full) {
        this.truncated = true;
        return;
      }
      this.nodes++;
      // Children go on the stack last first, so they come off in document order.
      const children = Array.isArray(node) ? node : Object.values(node as Record<string, unknown>);
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
  }
}
