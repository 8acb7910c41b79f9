/**
 * Where the detector runtime keeps its own state (the next tick, the reorder buffer): a partition no server identity
 * or host session can take, so under Kafka it belongs to whichever worker owns the runtime, not to an event key.
 */
/** The runtime's partition. */
export const RUNTIME_PARTITION = '_runtime';
/** The runtime's namespace (and the prefix of its other namespaces). */
export const RUNTIME_NS = 'runtime';
