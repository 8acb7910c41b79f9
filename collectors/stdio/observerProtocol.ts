/**
 * How the stdio tap's forwarding thread and its observer worker talk: chunks travel through a
 * shared ChunkRing; these messages carry only the lifecycle around them.
 */
import type { MessagePort } from 'node:worker_threads';
import type { NormalizerState } from '../normalizer.js';

export interface ObserverConfig {
  home?: string;
  /** tapwire.yaml to use (--config); else $TAPWIRE_CONFIG or <home>/tapwire.yaml. */
  configFile?: string;
  name?: string;
  sessionId: string;
  command: string;
  args: string[];
  maxFrameBytes: number;
  flushTimeoutMs: number;
  /** Events held in memory (at most 1,000) before the observer lets chunks wait in the ring instead. */
  maxQueuedEvents: number;
  /** The process that started the tap: the host, or a launcher in front of it. */
  parentPid: number;
  /** The ChunkRing's memory; direction 0 is host → server (the child's stdin), 1 is server → host. */
  ring: SharedArrayBuffer;
  /** Where the observer posts its ObserverPoint when it acknowledges a stop: the tap, blocked on the ring's handshake, reads it synchronously. */
  stopPort: MessagePort;
}

/**
 * Where the observer stands in its session: written as the ring's checkpoint with each release (then nothing is
 * unpublished), and posted to the tap when it acknowledges a stop. A hand-off continues the session from exactly
 * here, so every frame is recorded once and responses stay correlated with their requests.
 */
export interface ObserverPoint {
  /** Per direction, the offset (in bytes that entered the ring) below which every frame has been normalized. */
  offsets: [number, number];
  frames: number;
  /** Events made so far: on the bus, dropped, or in `unpublished`. */
  events: number;
  dropped: number;
  /** Events made but not on the bus yet, serialized, oldest first. */
  unpublished: string[];
  /** Absent when it did not fit the ring's checkpoint area: the hand-off then continues without the session's correlation. */
  normalizer?: NormalizerState;
  /** Whether session.end is among the events made. */
  sessionEnded: boolean;
}

export type ToObserver =
  | { type: 'start'; t: number; pid: number | undefined }
  /** Where the observer keeps how far it got, beside the tap's running note (observedProgress.ts). */
  | { type: 'progress'; file: string }
  /**
   * Sent after the last chunk is in the ring: `forwarded` counts each direction's bytes, `unobserved`
   * those neither in the ring nor spilled. With `handOff`, chunks were spilled after the ring's: the
   * observer records what the ring holds and leaves the session's end to whoever records the hand-off.
   */
  | {
      type: 'end';
      t: number;
      exitCode: number | null;
      signal: string | null;
      error?: string;
      forwarded: [number, number];
      unobserved: number;
      handOff: boolean;
    };

export interface ObserverSummary {
  events: number;
  dropped: number;
  /** Events the bus did not take in time: the observer handed them to the tap (its stop is acknowledged). */
  unpublished: number;
  lastError?: string;
}

/** `home`: the home the tap records to, resolved by the observer when the tap has no --home (its resolution may load the configuration). */
export type FromObserver = { type: 'home'; root: string } | { type: 'done'; summary: ObserverSummary };
