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
  /** Events held while the bus cannot be written; older ones are dropped (and counted) past this. */
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
   * those that never got into the ring, and `lostAtEnd` the losses no later chunk reported.
   */
  | {
      type: 'end';
      t: number;
      exitCode: number | null;
      signal: string | null;
      error?: string;
      forwarded: [number, number];
      unobserved: number;
      lostAtEnd: [number, number];
    };

export interface ObserverSummary {
  events: number;
  dropped: number;
  lastError?: string;
}

export type FromObserver = { type: 'done'; summary: ObserverSummary };
