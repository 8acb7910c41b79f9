/** Bounds on how much of one event the engine reads, so a huge or deeply nested event costs a bounded amount. */

export interface ScanLimits {
  /** Most scalar values read from one field (or, for keyword search, from the whole event). */
  maxValues: number;
  /** Most characters of string values read from one field (or the whole event, for keywords). */
  maxChars: number;
  /** Deepest nesting followed. */
  maxDepth: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = {
  maxValues: 10_000,
  maxChars: 1_048_576,
  maxDepth: 32,
};

/** A scalar an event field can hold. */
export type Leaf = string | number | boolean | null;

/** Gathers scalar values within the scan limits; strings are cut to the remaining character budget. */
export class LeafCollector {
  readonly values: Leaf[] = [];
  private chars = 0;

  /** With `stringsOnly`, numbers, booleans and nulls are skipped. */
  constructor(
    private readonly limits: ScanLimits,
    private readonly stringsOnly: boolean,
  ) {}

  /** Whether a limit is reached and further values are ignored. */
  get full(): boolean {
    return this.values.length >= this.limits.maxValues || this.chars >= this.limits.maxChars;
  }

  /** Adds one value if it is a scalar. */
  add(value: unknown): void {
    if (this.full) return;
    if (typeof value === 'string') {
      const room = this.limits.maxChars - this.chars;
      const kept = value.length > room ? value.slice(0, room) : value;
      this.chars += kept.length;
      this.values.push(kept);
    } else if (!this.stringsOnly && (value === null || typeof value === 'number' || typeof value === 'boolean')) {
      this.values.push(value);
    }
  }

  /** Adds every scalar under `root`, depth first through arrays and objects. */
  addTree(root: unknown, depth = 0): void {
    if (typeof root !== 'object' || root === null) {
      this.add(root);
      return;
    }
    if (depth >= this.limits.maxDepth || this.full) return;
    if (Array.isArray(root)) {
      for (const child of root) this.addTree(child, depth + 1);
      return;
    }
    const object = root as Record<string, unknown>;
    for (const key in object) this.addTree(object[key], depth + 1);
  }
}
