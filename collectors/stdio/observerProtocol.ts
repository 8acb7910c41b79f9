/**
 * How the stdio tap's forwarding thread and its observer worker talk: chunks travel through a
 * shared ChunkRing; these messages carry only the lifecycle around them.
 */

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
}

export type ToObserver =
  | { type: 'start'; t: number; pid: number | undefined }
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
  lastError?: string;
}

export type FromObserver = { type: 'done'; summary: ObserverSummary };
