/**
 * Forwards one HTTP exchange: the request streams to the upstream and the response streams back, chunk by
 * chunk with the streams' backpressure, each chunk written onward before it is copied to the observer. Whichever side goes
 * away takes the other with it, so neither a dead client nor a dead upstream keeps buffers alive.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { clientResponseHeaders, upstreamRequestHeaders } from './hopByHopHeaders.js';
import { OBSERVED_RESPONSE_HEADERS, type ToObserver } from './httpObserverProtocol.js';
import { LegacyEndpointRewriter } from './legacyEndpointRewriter.js';
import type { ObservationChannel } from './observationChannel.js';
import { sendProxyError } from './proxyErrorResponse.js';
import type { RouteMatch, RouteTable } from './proxyRoutes.js';
import type { UpstreamAgents } from './upstreamAgents.js';

/** What every exchange of one proxy shares. */
export interface ExchangeContext {
  channel: ObservationChannel;
  agents: UpstreamAgents;
  table: RouteTable;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
}

/** Epoch milliseconds with sub-millisecond resolution. */
export const now = (): number => performance.timeOrigin + performance.now();

function observedHeaders<K extends string>(headers: IncomingHttpHeaders, names: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value: string | string[] | undefined = headers[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function errorCode(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}

/** Forwards exchange `x`, already routed to `match` and announced to the observer, and observes what passes. */
export function forwardExchange(context: ExchangeContext, x: number, match: RouteMatch, req: IncomingMessage, res: ServerResponse): void {
  const { channel, maxBodyBytes } = context;
  const upstream = match.route.upstream;
  if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) {
    const reason = `request body of ${req.headers['content-length']} bytes exceeds the proxy's limit of ${maxBodyBytes} bytes`;
    channel.send({ type: 'proxyError', x, t: now(), status: 413, reason });
    sendProxyError(res, 413, reason);
    // Read and dropped, so the client can finish sending and receive the answer.
    req.resume();
    return;
  }
  let settled = false;
  let requestBytes = 0;
  let responseBytes = 0;
  let upstreamResponse: IncomingMessage | undefined;
  const finish = (message: ToObserver): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    channel.send(message);
  };
  /** The proxy answers in the upstream's place. */
  const fail = (status: number, reason: string): void => {
    if (settled) return;
    finish({ type: 'proxyError', x, t: now(), status, reason });
    upstreamRequest.destroy();
    upstreamResponse?.destroy();
    if (res.headersSent) res.destroy();
    else sendProxyError(res, status, reason);
    // Whatever the client still sends is read and dropped, so it can receive the answer.
    req.resume();
  };

  const upstreamRequest = (upstream.protocol === 'https:' ? httpsRequest : httpRequest)({
    hostname: upstream.hostname.replace(/^\[|\]$/g, ''),
    port: upstream.port === '' ? undefined : Number(upstream.port),
    method: req.method,
    path: match.upstreamTarget,
    headers: upstreamRequestHeaders(req.rawHeaders, upstream.host),
    setHost: false,
    agent: context.agents.for(upstream),
  });
  const timer = setTimeout(() => fail(504, `${upstream.origin} sent no response within ${context.upstreamTimeoutMs} ms`), context.upstreamTimeoutMs);
  timer.unref();

  // One listener forwards each chunk (with the stream's backpressure) and then copies it: no pipe() per
  // exchange, whose listeners cost more than the forwarding of a small MCP body.
  req.on('data', (chunk: Buffer) => {
    // Nothing can take it any more: read and dropped (see the upstream request's 'close').
    if (upstreamRequest.destroyed) return;
    if (!upstreamRequest.write(chunk)) req.pause();
    requestBytes += chunk.length;
    if (requestBytes > maxBodyBytes) fail(413, `request body exceeds the proxy's limit of ${maxBodyBytes} bytes`);
    else channel.chunk(x, 0, chunk);
  });
  upstreamRequest.on('drain', () => req.resume());
  // An upstream may answer before it has read the whole request (a 413 from the Content-Length) and then close the
  // connection without reading the rest: no 'drain' follows. The rest of the body is then read and dropped, or the
  // client's connection, which it reuses once it has written the body and received the answer, would carry its
  // next request behind bytes the proxy never reads, unanswered.
  upstreamRequest.on('close', () => req.resume());
  req.on('end', () => {
    upstreamRequest.end();
    channel.send({ type: 'requestEnd', x, t: now(), bytes: requestBytes, complete: true });
  });
  req.on('close', () => {
    if (req.complete) return;
    channel.send({ type: 'requestEnd', x, t: now(), bytes: requestBytes, complete: false });
    if (!settled) finish({ type: 'responseEnd', x, t: now(), bytes: responseBytes, complete: false, error: 'client closed the connection during its request' });
    upstreamRequest.destroy();
  });
  res.on('close', () => {
    if (res.writableFinished) return;
    // The client went away: the upstream must see that too, as it would without the proxy.
    upstreamRequest.destroy();
    upstreamResponse?.destroy();
    finish({ type: 'responseEnd', x, t: now(), bytes: responseBytes, complete: false, error: 'client closed the connection' });
  });

  upstreamRequest.on('error', (error) => {
    if (settled) return;
    if (!res.headersSent) fail(502, `${upstream.origin} failed: ${errorCode(error)}`);
    else {
      finish({ type: 'responseEnd', x, t: now(), bytes: responseBytes, complete: false, error: `upstream failed mid-response: ${errorCode(error)}` });
      res.destroy();
    }
  });

  upstreamRequest.on('response', (response: IncomingMessage) => {
    upstreamResponse = response;
    clearTimeout(timer);
    response.on('error', () => undefined);
    if (settled) {
      response.resume();
      return;
    }
    const status = response.statusCode ?? 502;
    channel.send({ type: 'response', x, t: now(), status, headers: observedHeaders(response.headers, OBSERVED_RESPONSE_HEADERS) });
    res.writeHead(status, response.statusMessage, clientResponseHeaders(response.rawHeaders));
    const eventStream = /^text\/event-stream\b/i.test(response.headers['content-type'] ?? '');
    // A stream's headers go out now, as the upstream sent them, not with its first event.
    if (eventStream) res.flushHeaders();
    let body: Readable = response;
    if (eventStream && req.method === 'GET') {
      const requestUrl = new URL(match.upstreamTarget, upstream);
      const rewriter = new LegacyEndpointRewriter(
        (endpoint) => {
          try {
            return context.table.proxyPathFor(match.index, new URL(endpoint, requestUrl));
          } catch {
            return undefined;
          }
        },
        (endpoint, rewritten) => {
          if (rewritten === undefined) channel.send({ type: 'unmappedEndpoint', x, t: now(), endpoint });
        },
      );
      body = response.pipe(rewriter);
      res.on('close', () => rewriter.destroy());
    }
    body.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) body.pause();
      responseBytes += chunk.length;
      channel.chunk(x, 1, chunk);
    });
    res.on('drain', () => body.resume());
    body.on('end', () => {
      res.end();
      finish({ type: 'responseEnd', x, t: now(), bytes: responseBytes, complete: true });
    });
    response.on('close', () => {
      if (response.complete || settled) return;
      finish({ type: 'responseEnd', x, t: now(), bytes: responseBytes, complete: false, error: 'upstream closed the connection mid-response' });
      // The client sees the same cut stream it would see from the upstream directly.
      res.destroy();
    });
  });
}
