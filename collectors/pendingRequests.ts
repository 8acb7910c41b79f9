/**
 * Requests awaiting their response, per direction and id, so a response can name the method it
 * answers and how long it took. Bounded: a peer that never answers cannot grow it without limit.
 */
import type { RequestId } from './jsonRpcMessage.js';

/** Which way a message travelled. */
export type Direction = 'client_to_server' | 'server_to_client';

/** What a response inherits from its request. */
export interface PendingRequest {
  method: string;
  timestampMs: number;
  toolName?: string;
  resourceUri?: string;
  promptName?: string;
}

const opposite = (d: Direction): Direction => (d === 'client_to_server' ? 'server_to_client' : 'client_to_server');
// 1 and "1" are different JSON-RPC ids.
const keyOf = (direction: Direction, id: RequestId): string => `${direction}|${typeof id}|${id}`;

/** The requests of a PendingRequests, oldest first, as plain data: a session continued elsewhere starts from them. */
export interface PendingRequestsState {
  requests: [string, PendingRequest][];
  evicted: number;
}

/** Outstanding requests, oldest evicted first beyond the limit. */
export class PendingRequests {
  readonly #byKey: Map<string, PendingRequest>;
  #evicted: number;

  /** `limit` is the most requests remembered at once; `from` continues where another instance stopped. */
  constructor(
    private readonly limit: number,
    from?: PendingRequestsState,
  ) {
    this.#byKey = new Map(from?.requests);
    this.#evicted = from?.evicted ?? 0;
  }

  /** The requests awaiting a response, as plain data. */
  state(): PendingRequestsState {
    return { requests: [...this.#byKey], evicted: this.#evicted };
  }

  /** Remembers a request sent in `direction`; a repeated id replaces the older request. */
  remember(direction: Direction, id: RequestId, request: PendingRequest): void {
    const key = keyOf(direction, id);
    this.#byKey.delete(key);
    this.#byKey.set(key, request);
    while (this.#byKey.size > Math.max(1, this.limit)) {
      const oldest = this.#byKey.keys().next().value;
      if (oldest === undefined) break;
      this.#byKey.delete(oldest);
      this.#evicted++;
    }
  }

  /** Takes the request a response travelling in `responseDirection` answers, if it was seen. */
  answer(responseDirection: Direction, id: RequestId): PendingRequest | undefined {
    const key = keyOf(opposite(responseDirection), id);
    const request = this.#byKey.get(key);
    this.#byKey.delete(key);
    return request;
  }

  /** Forgets a request its sender cancelled (the cancel travels the way the request did). */
  cancel(direction: Direction, id: RequestId): boolean {
    return this.#byKey.delete(keyOf(direction, id));
  }

  /** How many requests await a response. */
  get size(): number {
    return this.#byKey.size;
  }

  /** How many requests were forgotten to stay within the limit. */
  get evicted(): number {
    return this.#evicted;
  }
}
