/**
 * Answers of a pure function of a string, remembered across events within a fixed budget (issue 13: the fleet
 * repeats itself; the same server names, tool names and descriptions come back in thousands of sessions). Two
 * generations are kept: a key asked again while in the previous one moves to the current one, and when the current
 * one is full it becomes the previous one and the older is dropped whole (O(1), where evicting Map entries one by
 * one is not), so keys still in use survive and the rest age out. The memory held is at most twice the budget, in
 * the caller's unit (see cost).
 */
export class BoundedMemo<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();
  private spent = 0;

  /** `budget` per generation, in the unit of `cost` (default: one per entry). */
  constructor(
    private readonly budget: number,
    private readonly cost: (key: string, value: V) => number = () => 1,
  ) {}

  /** The remembered answer for `key`, or `compute(key)` remembered. */
  get(key: string, compute: (key: string) => V): V {
    let value = this.current.get(key);
    if (value !== undefined) return value;
    value = this.previous.get(key);
    if (value === undefined) value = compute(key);
    const size = this.cost(key, value);
    if (this.spent + size > this.budget) {
      this.previous = this.current;
      this.current = new Map();
      this.spent = 0;
    }
    this.current.set(key, value);
    this.spent += size;
    return value;
  }
}
