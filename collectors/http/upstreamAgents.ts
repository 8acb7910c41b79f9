/**
 * Keep-alive connection pools to the upstreams, one per protocol. https upstreams are verified against
 * Node's trust store (its bundled CAs, plus NODE_EXTRA_CA_CERTS), or, with an extra CA file configured,
 * the bundled CAs and that file. node:http's pool measured as cheap per request as undici's on this load.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';

/** Connections kept idle per upstream for reuse; enough for the bursts of a few dozen concurrent clients. */
const MAX_FREE_SOCKETS = 256;
/**
 * How long a connection stays idle in the pool (shorter still when the upstream advertises Keep-Alive: timeout=N:
 * N - 1 s). Without it Node keeps idle connections until the upstream closes them, and a request sent on one the
 * upstream has just closed fails (502, ECONNRESET): under saturated CPU that hit about one request in 10,000.
 * In use, a connection is not cut by it (nothing listens for the request's 'timeout').
 */
const IDLE_TIMEOUT_MS = 4000;

/** The connection pools the proxy forwards through. */
export class UpstreamAgents {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  /** `extraCa` (PEM) is trusted in addition to the default store. */
  constructor(extraCa?: Buffer) {
    const pool = { keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS, scheduling: 'lifo' as const, timeout: IDLE_TIMEOUT_MS };
    this.#http = new HttpAgent(pool);
    this.#https = new HttpsAgent({ ...pool, ...(extraCa ? { ca: [...rootCertificates, extraCa.toString('utf8')] } : {}) });
  }

  /** The pool for an upstream URL. */
  for(upstream: URL): HttpAgent {
    return upstream.protocol === 'https:' ? this.#https : this.#http;
  }

  /** Closes every pooled connection. */
  destroy(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
