/** A real HTTP server on 127.0.0.1 that records each request and answers it with a test's handler. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedHttpRequest {
  method: string;
  /** Path and query string. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpAnswer {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: unknown;
}

export interface RecordingHttpServer {
  url: string;
  requests: RecordedHttpRequest[];
  close(): Promise<void>;
}

/** Starts a server answering every request with `answer(request)`. */
export async function startRecordingHttpServer(answer: (request: RecordedHttpRequest) => HttpAnswer | Promise<HttpAnswer>): Promise<RecordingHttpServer> {
  const requests: RecordedHttpRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: RecordedHttpRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(request);
      void Promise.resolve(answer(request)).then((reply) => {
        const json = typeof reply.body !== 'string' && !Buffer.isBuffer(reply.body);
        const payload = reply.body === undefined ? '' : json ? JSON.stringify(reply.body) : (reply.body as string | Buffer);
        res.writeHead(reply.status ?? 200, { 'content-type': json ? 'application/json' : 'text/plain', ...reply.headers });
        res.end(payload);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
