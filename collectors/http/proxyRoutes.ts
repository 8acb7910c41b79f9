/**
 * Which configured upstream a request goes to, and the path it is sent with. This is the proxy's SSRF
 * boundary: only origin-form targets are accepted, the upstream is always a configured origin (never
 * the Host header or the target), and paths with dot-segments are refused so a prefix cannot be escaped.
 *
 * Mapping: a route's path prefix is stripped and the rest goes unchanged to the upstream's origin, so a
 * client reaches the upstream `https://u/mcp` behind prefix `/notes` at `<proxy>/notes/mcp`. OAuth
 * discovery paths with the route's path inserted (RFC 9728 §3.1, RFC 8414 §3:
 * `/.well-known/oauth-protected-resource/notes/mcp`) reach the same route.
 */
import type { ProxyRoute } from './proxyConfig.js';

/** A request the table accepted. */
export interface RouteMatch {
  index: number;
  route: ProxyRoute;
  /** Path and query to request from the upstream's origin. */
  upstreamTarget: string;
}

/** A request the table refused, with the status to answer. */
export interface RouteMiss {
  status: 400 | 404 | 421;
  reason: string;
}

const WELL_KNOWN = /^\/\.well-known\/([^/?]+)(\/[^?]*)?$/;
/** Dot-segments, raw or percent-encoded, and backslashes some servers treat as separators. */
const ESCAPING_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)|\\|%5c/i;

function underPrefix(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

/** The routes of one proxy, matched by Host and longest path prefix. */
export class RouteTable {
  readonly routes: readonly ProxyRoute[];

  /** Requests match routes with their Host first, then host-less ones; within them, the longest path prefix. */
  constructor(routes: readonly ProxyRoute[]) {
    this.routes = routes;
  }

  /** Routes the request target `target` (as received) sent with Host `hostHeader`. */
  match(hostHeader: string | undefined, target: string): RouteMatch | RouteMiss {
    if (!target.startsWith('/')) {
      return { status: 400, reason: `request target '${target.slice(0, 200)}' is not a path: this is a reverse proxy, not an open proxy` };
    }
    const queryAt = target.indexOf('?');
    const path = queryAt === -1 ? target : target.slice(0, queryAt);
    const query = queryAt === -1 ? '' : target.slice(queryAt);
    if (ESCAPING_SEGMENT.test(path)) return { status: 400, reason: 'request path contains dot-segments or backslashes' };
    const host = hostHeader?.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
    const candidates = this.#candidates(host);
    if (candidates.length === 0) return { status: 421, reason: `no route serves host '${(hostHeader ?? '').slice(0, 200)}'` };
    const wellKnown = WELL_KNOWN.exec(path);
    if (wellKnown?.[2] !== undefined) {
      const inserted = this.#best(candidates, wellKnown[2], true);
      if (inserted) return { ...inserted, upstreamTarget: `/.well-known/${wellKnown[1]}${this.#stripped(inserted.route, wellKnown[2])}${query}` };
    }
    const found = this.#best(candidates, path, false);
    if (!found) return { status: 404, reason: `no route serves path '${path.slice(0, 200)}'` };
    return { ...found, upstreamTarget: `${this.#stripped(found.route, path)}${query}` };
  }

  /** The proxy path (with query) under which the client reaches an upstream URL, if the route covers it. */
  proxyPathFor(index: number, upstreamUrl: URL): string | undefined {
    const route = this.routes[index];
    if (!route || upstreamUrl.origin !== route.upstream.origin) return undefined;
    const prefix = route.pathPrefix === '/' ? '' : route.pathPrefix;
    return `${prefix}${upstreamUrl.pathname}${upstreamUrl.search}`;
  }

  #candidates(host: string | undefined): { index: number; route: ProxyRoute }[] {
    const all = this.routes.map((route, index) => ({ index, route }));
    const byHost = all.filter(({ route }) => route.host !== undefined && route.host === host);
    return byHost.length > 0 ? byHost : all.filter(({ route }) => route.host === undefined);
  }

  #best(candidates: { index: number; route: ProxyRoute }[], path: string, prefixedOnly: boolean): { index: number; route: ProxyRoute } | undefined {
    let best: { index: number; route: ProxyRoute } | undefined;
    for (const candidate of candidates) {
      const prefix = candidate.route.pathPrefix;
      if (prefixedOnly && prefix === '/') continue;
      if (!underPrefix(path, prefix)) continue;
      if (!best || prefix.length > best.route.pathPrefix.length) best = candidate;
    }
    return best;
  }

  #stripped(route: ProxyRoute, path: string): string {
    if (route.pathPrefix === '/') return path;
    const rest = path.slice(route.pathPrefix.length);
    return rest === '' ? '/' : rest;
  }
}
