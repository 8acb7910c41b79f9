/**
 * State is kept in maps nested by namespace and partition (StateBatch, EmbeddedStateStore's cache): the inner map of
 * a key, made on first use. Called on every state read and write, so it takes no factory closure.
 */
export function innerMap<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}
