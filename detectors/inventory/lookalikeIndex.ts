/**
 * An index of the fleet's server names for the look-alike check, kept in detector state next to the names, so a
 * newcomer is compared with the few names that can imitate or be imitated by it instead of the whole fleet. Two
 * keys find every candidate lookalikeOf() can accept:
 * - the confusable skeleton (nameSimilarity.nameSkeleton) of every spelling a name was stored under;
 * - the lower-case name and each of its one-character deletions (a symmetric deletion neighbourhood): two strings
 *   one edit apart always share one of these keys (a substitution shares the deletion at its position, an
 *   insertion the shorter string itself).
 * The index only narrows the search: candidates are still judged by lookalikeOf() against the stored names.
 */
import { nameSkeleton } from './nameSimilarity.js';
import type { StateStore } from '../stateStore.js';

const NS = 'identity.lookalike-keys';
/** Set once the names stored before the index existed have been indexed. */
const BUILT_KEY = '\u0000built';

/** The index keys of a stored name (`key`: its lower-case form, `spelling`: how it was written). */
function indexKeys(key: string, spelling: string): string[] {
  const keys = new Set([`s:${nameSkeleton(spelling)}`, `d:${key}`]);
  for (let i = 0; i < key.length; i++) keys.add(`d:${key.slice(0, i)}${key.slice(i + 1)}`);
  return [...keys];
}

/** The keys whose entries may hold a name that `name` imitates or that imitates it. */
function probeKeys(name: string): string[] {
  return indexKeys(name.toLowerCase(), name);
}

/** The fleet-name index, in a partition of `state` (the fleet's own). */
export class LookalikeIndex {
  /** Reads and writes through the detector's state, so the index commits with the names it covers. */
  constructor(private readonly partition: string) {}

  /** Adds a spelling of the fleet name stored under `key`. */
  add(state: StateStore, key: string, spelling: string): void {
    for (const indexKey of indexKeys(key, spelling)) {
      const names = state.get<string[]>(this.partition, NS, indexKey) ?? [];
      if (!names.includes(key)) state.put(this.partition, NS, indexKey, [...names, key]);
    }
  }

  /**
   * The fleet-name keys that may be look-alikes of `name`, sorted (the order of the names' own namespace). On the
   * first call over a state written before the index existed, `existing` supplies those names to index.
   */
  candidates(state: StateStore, name: string, existing: () => Iterable<[string, string]>): string[] {
    if (state.get<boolean>(this.partition, NS, BUILT_KEY) !== true) {
      for (const [key, spelling] of existing()) this.add(state, key, spelling);
      state.put(this.partition, NS, BUILT_KEY, true);
    }
    const found = new Set<string>();
    for (const indexKey of probeKeys(name)) for (const key of state.get<string[]>(this.partition, NS, indexKey) ?? []) found.add(key);
    return [...found].sort();
  }
}
