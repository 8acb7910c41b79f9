/** Messages between the stdio tap's forwarding thread and its observer worker. */

/** 0: host → server (the child's stdin); 1: server → host (the child's stdout). */
export type StreamIndex = 0 | 1;

export interface ObserverConfig {
  home?: string;
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
}

export type ToObserver =
  | { type: 'start'; t: number; pid: number | undefined }
  | { type: 'chunk'; dir: StreamIndex; t: number; bytes: Uint8Array }
  /** Bytes that were forwarded but not observed (the observer fell too far behind). */
  | { type: 'gap'; dir: StreamIndex; t: number; bytes: number }
  | { type: 'end'; t: number; exitCode: number | null; signal: string | null; error?: string; unobservedBytes: number };

export interface ObserverSummary {
  events: number;
  dropped: number;
  lastError?: string;
}

export type FromObserver =
  | { type: 'ack'; bytes: number }
  | { type: 'done'; summary: ObserverSummary };
