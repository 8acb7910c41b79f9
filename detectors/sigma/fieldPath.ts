/**
 * Dotted field names (`gen_ai.tool.name`) resolved over plain JSON events. A path that crosses an array yields
 * every element's value; a key that itself contains dots (`{"a.b": 1}`, common under http.*) is found too.
 * Derived fields (derivedFields.ts) are resolved by name instead.
 */
import { DERIVED_FIELDS, type DerivedFieldCompute } from './derivedFields.js';

interface DottedKey {
  key: string;
  next: number;
}

/** Field name → its slot: every FieldPath of one name shares a number, so per-event caches are arrays. */
const SLOTS = new Map<string, number>();

function slotOf(name: string): number {
  let slot = SLOTS.get(name);
  if (slot === undefined) {
    slot = SLOTS.size;
    SLOTS.set(name, slot);
  }
  return slot;
}

/** A compiled field name. */
export class FieldPath {
  readonly segments: readonly string[];
  /** The same number for every path of this name (EventContext's cache index). */
  readonly slot: number;
  readonly derived: DerivedFieldCompute | undefined;
  /** For each segment index, the keys that join it with following segments ("a.b", "a.b.c"). */
  private readonly dottedKeys: readonly DottedKey[][];

  /** Compiles `name`; throws a plain Error for an empty segment. */
  constructor(readonly name: string) {
    const segments = name.split('.');
    if (segments.some((s) => s === '')) throw new Error(`field name '${name}' has an empty segment`);
    this.segments = segments;
    this.slot = slotOf(name);
    this.derived = DERIVED_FIELDS.get(name);
    this.dottedKeys = segments.map((_, i) => {
      const keys: DottedKey[] = [];
      for (let end = i + 2; end <= segments.length; end++) keys.push({ key: segments.slice(i, end).join('.'), next: end });
      return keys;
    });
  }

  /** Appends every value at this path under `root`; arrays at the end of the path contribute their elements. */
  resolve(root: unknown, out: unknown[]): unknown[] {
    // Every rule field is read from every event it may match: follow plain keys in a loop, and leave arrays and dotted
    // keys (the walk's other cases) to the recursive walk from where the loop stops.
    // Most paths are missing from most events: a missing plain key no dotted key can stand in for ends the read here.
    const segments = this.segments;
    let node = root;
    let index = 0;
    while (index < segments.length && typeof node === 'object' && node !== null && !Array.isArray(node)) {
      const key = segments[index] as string;
      if (!Object.hasOwn(node, key)) {
        if ((this.dottedKeys[index] as DottedKey[]).length === 0) return out;
        break;
      }
      node = (node as Record<string, unknown>)[key];
      index++;
    }
    this.walk(node, index, out);
    return out;
  }

  private walk(node: unknown, index: number, out: unknown[]): void {
    if (index === this.segments.length) {
      // A loop, not push(...node): spreading an array of 100,000+ items overflows the call stack.
      if (Array.isArray(node)) for (const element of node) out.push(element);
      else out.push(node);
      return;
    }
    if (Array.isArray(node)) {
      for (const element of node) this.walk(element, index, out);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const object = node as Record<string, unknown>;
    const key = this.segments[index] as string;
    if (Object.hasOwn(object, key)) {
      this.walk(object[key], index + 1, out);
      return;
    }
    for (const dotted of this.dottedKeys[index] as DottedKey[]) {
      if (Object.hasOwn(object, dotted.key)) this.walk(object[dotted.key], dotted.next, out);
    }
  }
}
