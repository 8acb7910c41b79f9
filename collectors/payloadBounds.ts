/**
 * Size bounds for what a collector puts into an event. A frame can be megabytes (the SDK allows 10 MB
 * lines); an event must stay small enough for the bus and the store, so payloads are cut structurally
 * (long strings shortened, long arrays and objects trimmed) with visible markers, never dropped whole
 * where a smaller faithful shape exists.
 */
import { setJsonProperty } from './jsonProperty.js';

/** How big one copied value may be. */
export interface PayloadLimits {
  /** A single string longer than this (UTF-8 bytes) is cut. */
  maxStringBytes: number;
  /** The JSON of the whole value must fit in this many bytes. */
  maxPayloadBytes: number;
}

/** A bounded copy and whether anything was cut. */
export interface Bounded<T = unknown> {
  value: T;
  truncated: boolean;
}

/** Deeper JSON cannot be serialized safely (JSON.stringify recurses), and no MCP message needs it. */
export const MAX_NESTING = 64;
/** Strings are never cut below this while fitting a payload, so ids and hashes (64 hex) survive. */
const STRING_FLOOR_BYTES = 128;
/** Per-item budget floor when a list is shared out among many items. */
const ITEM_FLOOR_BYTES = 256;
const MORE_KEYS = '…';

/** The UTF-8 size of a value's JSON. */
export function jsonBytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v) ?? 'null', 'utf8');
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes on a character boundary, plus a marker saying how much went. */
export function boundString(s: string, maxBytes: number): Bounded<string> {
  // Cheap exit: even at 3 bytes per UTF-16 unit it fits.
  if (s.length * 3 <= maxBytes) return { value: s, truncated: false };
  const total = Buffer.byteLength(s, 'utf8');
  if (total <= maxBytes) return { value: s, truncated: false };
  // Every UTF-16 unit takes at least one byte, so this prefix holds the bytes we keep.
  const head = Buffer.from(s.slice(0, maxBytes + 1), 'utf8');
  let end = Math.max(0, maxBytes);
  while (end > 0 && ((head[end] ?? 0) & 0xc0) === 0x80) end--;
  return { value: `${head.toString('utf8', 0, end)}…[truncated ${total - end} bytes]`, truncated: true };
}

/** A copy with anything nested deeper than `maxDepth` replaced by a marker; the value itself when it is shallow enough. */
export function capNesting(v: unknown, maxDepth = MAX_NESTING): Bounded {
  if (!deeperThan(v, maxDepth)) return { value: v, truncated: false };
  return { value: capped(v, maxDepth, `[nesting deeper than ${maxDepth} levels removed]`), truncated: true };
}

function deeperThan(v: unknown, remaining: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (remaining <= 0) return true;
  // Walked in place: this runs on every message, and an array of each object's values per level adds up.
  if (Array.isArray(v)) {
    for (const child of v) if (deeperThan(child, remaining - 1)) return true;
    return false;
  }
  for (const key in v) if (Object.hasOwn(v, key) && deeperThan((v as Record<string, unknown>)[key], remaining - 1)) return true;
  return false;
}

function capped(v: unknown, remaining: number, marker: string): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (remaining <= 0) return marker;
  if (Array.isArray(v)) return v.map((item) => capped(item, remaining - 1, marker));
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(v)) setJsonProperty(copy, key, capped((v as Record<string, unknown>)[key], remaining - 1, marker));
  return copy;
}

interface ShrinkPass {
  stringBytes: number;
  items: number;
  truncated: boolean;
  /** The longest string (UTF-16 units) and the widest array or object met: where tightening starts. */
  longest: number;
  widest: number;
  /** An upper bound of the result's JSON size in UTF-8 bytes: below the limit, the exact size need not be measured. */
  jsonBound: number;
}

/** The most UTF-8 bytes one UTF-16 unit of a string takes in JSON (a \uXXXX escape). */
const JSON_BYTES_PER_UNIT = 6;
/** The longest JSON a number can take ("-1.7976931348623157e+308"); true, false and null are shorter. */
const JSON_SCALAR_BYTES = 24;

function shrink(v: unknown, pass: ShrinkPass): unknown {
  if (typeof v === 'string') {
    pass.longest = Math.max(pass.longest, v.length);
    const cut = boundString(v, pass.stringBytes);
    pass.truncated ||= cut.truncated;
    pass.jsonBound += 2 + JSON_BYTES_PER_UNIT * cut.value.length;
    return cut.value;
  }
  if (v === null || typeof v !== 'object') {
    pass.jsonBound += JSON_SCALAR_BYTES;
    return v;
  }
  // Brackets, and a separator per item or a colon and a separator per key (counted below).
  pass.jsonBound += 2;
  if (Array.isArray(v)) {
    pass.widest = Math.max(pass.widest, v.length);
    const kept = v.slice(0, pass.items).map((item) => shrink(item, pass));
    if (v.length > pass.items) {
      pass.truncated = true;
      const marker = `…[${v.length - pass.items} more items]`;
      pass.jsonBound += 2 + JSON_BYTES_PER_UNIT * marker.length;
      kept.push(marker);
    }
    pass.jsonBound += kept.length;
    return kept;
  }
  const record = v as Record<string, unknown>;
  const keys = Object.keys(record);
  pass.widest = Math.max(pass.widest, keys.length);
  const kept = Math.min(keys.length, pass.items);
  const copy: Record<string, unknown> = {};
  for (let i = 0; i < kept; i++) setJsonProperty(copy, shrink(keys[i], pass) as string, shrink(record[keys[i]!], pass));
  if (keys.length > pass.items) {
    pass.truncated = true;
    const marker = `[${keys.length - pass.items} more keys]`;
    pass.jsonBound += 4 + JSON_BYTES_PER_UNIT * (MORE_KEYS.length + marker.length);
    setJsonProperty(copy, MORE_KEYS, marker);
  }
  pass.jsonBound += 2 * (keys.length > pass.items ? kept + 1 : kept);
  return copy;
}

/**
 * Bounds a JSON value: strings over maxStringBytes are cut; then, while the JSON is over maxPayloadBytes,
 * strings are shortened (down to a floor) and then arrays and objects are trimmed, each step at least
 * halving and jumping straight to the size ratio when that is smaller. A value that still does not fit
 * becomes a marker string.
 */
export function boundPayload(v: unknown, limits: PayloadLimits): Bounded {
  const pass: ShrinkPass = { stringBytes: limits.maxStringBytes, items: Number.POSITIVE_INFINITY, truncated: false, longest: 0, widest: 0, jsonBound: 0 };
  let value = shrink(v, pass);
  if (pass.jsonBound <= limits.maxPayloadBytes) return { value, truncated: pass.truncated };
  let size = jsonBytes(value);
  while (size > limits.maxPayloadBytes) {
    const ratio = limits.maxPayloadBytes / size;
    if (pass.stringBytes > STRING_FLOOR_BYTES && pass.longest > STRING_FLOOR_BYTES) {
      const target = Math.min(pass.stringBytes, pass.longest) * Math.min(0.5, ratio);
      pass.stringBytes = Math.max(STRING_FLOOR_BYTES, Math.floor(target));
    } else if (pass.items > 1 && pass.widest > 1) {
      pass.items = Math.max(1, Math.floor(Math.min(pass.items, pass.widest) * Math.min(0.5, ratio)));
    } else {
      return { value: `[payload of ${size} bytes over the ${limits.maxPayloadBytes}-byte limit removed]`, truncated: true };
    }
    pass.truncated = false;
    value = shrink(v, pass);
    size = jsonBytes(value);
  }
  return { value, truncated: pass.truncated };
}

/**
 * Bounds a list whose items must keep their shape (tools, resources, prompts): each item is built with
 * the full limits; while the list is too big, it is rebuilt with a shrinking share of the budget for
 * each item's fields; if even the smallest share is too big, the list is cut after the items that fit.
 */
export function boundEach<T>(items: readonly unknown[], limits: PayloadLimits, build: (item: unknown, itemLimits: PayloadLimits) => Bounded<T>): Bounded<T[]> {
  const buildAll = (itemLimits: PayloadLimits): T[] => items.map((item) => build(item, itemLimits)).map((b) => b.value);
  const full = items.map((item) => build(item, limits));
  const fullValue = full.map((b) => b.value);
  if (jsonBytes(fullValue) <= limits.maxPayloadBytes) return { value: fullValue, truncated: full.some((b) => b.truncated) };
  let share = Math.max(ITEM_FLOOR_BYTES, Math.floor(limits.maxPayloadBytes / Math.max(1, items.length)));
  let shared = buildAll({ maxStringBytes: Math.min(limits.maxStringBytes, share), maxPayloadBytes: share });
  // A share bounds each field, and an item has several: halve until the whole list fits or the floor is reached.
  while (jsonBytes(shared) > limits.maxPayloadBytes && share > ITEM_FLOOR_BYTES) {
    share = Math.max(ITEM_FLOOR_BYTES, Math.floor(share / 2));
    shared = buildAll({ maxStringBytes: Math.min(limits.maxStringBytes, share), maxPayloadBytes: share });
  }
  let used = 2;
  const kept: T[] = [];
  for (const item of shared) {
    used += jsonBytes(item) + 1;
    if (used > limits.maxPayloadBytes && kept.length > 0) break;
    kept.push(item);
  }
  return { value: kept, truncated: true };
}
