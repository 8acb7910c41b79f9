/**
 * Aho-Corasick search of many literals in one pass, as a full transition table over UTF-16 code units (the units
 * String.includes compares, so a literal is found exactly where includes would find it). The literal prefilter runs
 * it on every value of a field with many literals, for every event: a table step per code unit, where the generic
 * library (@monyone/aho-corasick) looked up a Map per character and built a match object per hit, and that was
 * ~20 % of the rule pack's time (issue 13).
 *
 * The alphabet is the code units the literals use plus one symbol for every other unit (which leads back to the
 * start), so the table stays states × (used units + 1) whatever the text holds.
 *
 * The pass is bound by memory reads, not arithmetic (a pack has a scanner per field, each with its tables), so the
 * tables are kept small: the unit → symbol map only reaches the highest unit a literal uses (a few hundred bytes for
 * ASCII literals, where a full 64 Ki map was 128 KiB per scanner), and each transition holds the next state's row
 * offset with a flag for "literals end here", so a step is two reads and no multiply.
 */
export class LiteralAutomaton {
  /** Code unit → alphabet symbol, up to the highest unit a literal uses; 0 (and any unit beyond) for the others. */
  private readonly symbols: Uint16Array;
  private readonly width: number;
  /** Row offset (state × width) + symbol → the next state's row offset × 2, + 1 when literals end at it. */
  private readonly next: Int32Array;
  /** The literal ids that end at each state (its own and those of its failure chain); undefined for none. */
  private readonly ends: (number[] | undefined)[];

  /** Builds the table for `literals`; a literal's id is its index. Empty literals are never reported. */
  constructor(literals: readonly string[]) {
    let highest = 0;
    for (const literal of literals) for (let i = 0; i < literal.length; i++) highest = Math.max(highest, literal.charCodeAt(i));
    this.symbols = new Uint16Array(highest + 1);
    let width = 1;
    for (const literal of literals) {
      for (let i = 0; i < literal.length; i++) {
        const unit = literal.charCodeAt(i);
        if (this.symbols[unit] === 0) this.symbols[unit] = width++;
      }
    }
    this.width = width;
    // The trie, one row of `width` children per state (0: none; the start state is 0 and is nobody's child).
    const children: number[] = new Array<number>(width).fill(0);
    const ends: (number[] | undefined)[] = [undefined];
    literals.forEach((literal, id) => {
      if (literal === '') return;
      let state = 0;
      for (let i = 0; i < literal.length; i++) {
        const at = state * width + (this.symbols[literal.charCodeAt(i)] as number);
        if (children[at] === 0) {
          children[at] = ends.length;
          ends.push(undefined);
          for (let s = 0; s < width; s++) children.push(0);
        }
        state = children[at] as number;
      }
      (ends[state] ??= []).push(id);
    });
    // Breadth first: a state's failure target is shallower, so its row and ends are final when the state is reached.
    if (children.length * 2 > 0x7fffffff) throw new Error(`literal automaton: ${children.length} transitions exceed the table's offsets`);
    const next = new Int32Array(children.length);
    const failure = new Int32Array(ends.length);
    const queue: number[] = [];
    for (let symbol = 0; symbol < width; symbol++) {
      const child = children[symbol] as number;
      next[symbol] = child;
      if (child !== 0) queue.push(child);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      const fallback = failure[state] as number;
      const inherited = ends[fallback];
      if (inherited !== undefined) ends[state] = [...(ends[state] ?? []), ...inherited];
      for (let symbol = 0; symbol < width; symbol++) {
        const child = children[state * width + symbol] as number;
        const onFailure = next[fallback * width + symbol] as number;
        if (child === 0) {
          next[state * width + symbol] = onFailure;
        } else {
          next[state * width + symbol] = child;
          failure[child] = onFailure;
          queue.push(child);
        }
      }
    }
    for (let at = 0; at < next.length; at++) {
      const state = next[at] as number;
      next[at] = state * width * 2 + (ends[state] === undefined ? 0 : 1);
    }
    this.next = next;
    this.ends = ends;
  }

  /** Sets marks[id] = stamp for every literal in `text`; returns how many literals it marked that were not yet. */
  mark(text: string, marks: number[], stamp: number): number {
    const { symbols, next, ends, width } = this;
    const known = symbols.length;
    let row = 0;
    let set = 0;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      const step = next[row + (unit < known ? (symbols[unit] as number) : 0)] as number;
      row = step >> 1;
      if ((step & 1) === 0) continue;
      for (const id of ends[row / width] as number[]) {
        if (marks[id] !== stamp) {
          marks[id] = stamp;
          set++;
        }
      }
    }
    return set;
  }
}
