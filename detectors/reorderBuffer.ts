/**
 * Puts events back in event-time order before detectors see them. Taps observe off the traffic path and publish
 * when they can, so the bus holds one session's events in order but interleaves sessions late: a result the notes
 * server returned can land after the call it provoked on the weather server. The buffer holds each event until an
 * event at least `latenessMs` newer has arrived (or the input ends), then releases in (time, arrival) order. Times
 * have the taps' microseconds (pipeline/eventTime.ts): two taps' events in one millisecond are released in the order
 * they happened, not in the order the bus holds them.
 *
 * Held events are detector state: persist() writes the ones still held at a commit (and removes the released ones
 * that had been written), so a batch's position may cover records whose events are still held without losing them.
 * Most events are released within the batch that brought them and never touch the store.
 */
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import { RUNTIME_NS, RUNTIME_PARTITION } from './runtimeState.js';
import type { StateStore } from './stateStore.js';

interface Held {
  time: number;
  arrival: number;
  event: McpEvent;
}

const NS = `${RUNTIME_NS}.reorder`;
const META_KEY = 'reorder';

/** The held event's state key; a key written before times had microseconds is replaced at the next persist. */
function keyOf(held: Held): string {
  return `${held.time.toFixed(3).padStart(20, '0')}:${String(held.arrival).padStart(16, '0')}`;
}

/** A time-ordered hold of recent events, persisted through a StateStore. */
export class ReorderBuffer {
  private held: Held[] = [];
  private persisted = new Set<string>();
  private arrivals = 0;
  private newest = Number.NEGATIVE_INFINITY;

  /** `latenessMs` of event time an event waits for earlier ones (0: no reordering). */
  constructor(readonly latenessMs: number) {}

  /** Events held now. */
  get size(): number {
    return this.held.length;
  }

  /** Ids of the events held now. */
  heldIds(): Set<string> {
    return new Set(this.held.map((h) => h.event.event.id));
  }

  /** Reloads what a previous process left held. */
  load(state: StateStore): void {
    const meta = state.get<{ arrivals: number; newest: number }>(RUNTIME_PARTITION, RUNTIME_NS, META_KEY);
    this.arrivals = meta?.arrivals ?? 0;
    this.newest = meta?.newest ?? Number.NEGATIVE_INFINITY;
    const entries = state.entries<Held>(RUNTIME_PARTITION, NS);
    this.held = entries.map(([, held]) => held);
    // The keys as stored, so that the next persist removes those written before keys had microseconds.
    this.persisted = new Set(entries.map(([key]) => key));
  }

  /** Takes an event at `time` (milliseconds, the microseconds as a fraction); returns the events it lets go, oldest first. */
  add(event: McpEvent, time: number): McpEvent[] {
    const held: Held = { time, arrival: this.arrivals++, event };
    let at = this.held.length;
    while (at > 0 && (this.held[at - 1] as Held).time > time) at -= 1;
    this.held.splice(at, 0, held);
    if (time > this.newest) this.newest = time;
    return this.release(this.newest - this.latenessMs);
  }

  /** Lets go every event at or before `upTo` (all with Infinity), oldest first. */
  release(upTo: number): McpEvent[] {
    let count = 0;
    while (count < this.held.length && (this.held[count] as Held).time <= upTo) count += 1;
    return count === 0 ? [] : this.held.splice(0, count).map((h) => h.event);
  }

  /** Writes the held events (and forgets released ones) into `writes`, ready for the batch's commit. */
  persist(writes: StateStore): void {
    const now = new Set<string>();
    for (const held of this.held) {
      const key = keyOf(held);
      now.add(key);
      if (!this.persisted.has(key)) writes.put(RUNTIME_PARTITION, NS, key, held);
    }
    for (const key of this.persisted) if (!now.has(key)) writes.delete(RUNTIME_PARTITION, NS, key);
    this.persisted = now;
    writes.put(RUNTIME_PARTITION, RUNTIME_NS, META_KEY, { arrivals: this.arrivals, newest: Number.isFinite(this.newest) ? this.newest : null });
  }
}
