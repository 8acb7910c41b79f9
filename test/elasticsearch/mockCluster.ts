/**
 * An Elasticsearch cluster at the HTTP layer, for the Elasticsearch store's tests: @elastic/elasticsearch-mock
 * answers the client's requests, and this records them. Bulk requests are applied to in-memory data streams with
 * Elasticsearch's `create` semantics (409 for an _id already in the stream), and tests can make single documents
 * fail (429, mapping errors) or the whole cluster unreachable.
 */
import { createRequire } from 'node:module';
import { Client } from '@elastic/elasticsearch';
import type { MockPattern } from '@elastic/elasticsearch-mock';

const require = createRequire(import.meta.url);
/**
 * The error classes the mock recognises: the package's CommonJS build, which the mock loads. (The ESM client the
 * store uses wraps connection errors into its own classes, as it does for real ones.)
 */
export const mockErrors = (require('@elastic/elasticsearch') as typeof import('@elastic/elasticsearch')).errors;
/** The part of the mock's API used here. */
interface ClientMock {
  add(pattern: MockPattern, resolver: (params: MockPattern) => Record<string, unknown> | string): ClientMock;
  clear(pattern: Pick<MockPattern, 'method' | 'path'>): ClientMock;
  getConnection(): unknown;
}
/** The mock is CommonJS (module.exports = class), which its type declarations describe as a default export. */
const Mock = require('@elastic/elasticsearch-mock') as new () => ClientMock;

/** One request the client sent. */
export interface RecordedRequest {
  method: string;
  path: string;
  querystring: Record<string, string>;
  body: unknown;
}

/** A bulk item's outcome chosen by a test: a status with an error, or undefined to apply it normally. */
export type ItemFault = (action: { index: string; id: string }, document: Record<string, unknown>) => { status: number; type: string; reason: string } | undefined;

/** The index and id of a /<index>/_doc/<id> path. */
function docAddress(path: string): [string, string] {
  const [, index, , id] = path.split('/');
  return [decodeURIComponent(index ?? ''), decodeURIComponent(id ?? '')];
}

export class MockCluster {
  readonly mock = new Mock();
  readonly requests: RecordedRequest[] = [];
  /** Documents by data stream, then _id, in the order they were created. */
  readonly streams = new Map<string, Map<string, Record<string, unknown>>>();
  /** Documents of plain indices (index, then _id), written with PUT /<index>/_doc/<id>. */
  readonly indices = new Map<string, Map<string, unknown>>();
  /** Bulk request bodies as sent (action and document lines). */
  readonly bulkBodies: unknown[][] = [];
  itemFault: ItemFault = () => undefined;
  /** While true, every request fails as if the cluster were unreachable. */
  down = false;

  constructor() {
    this.mock.add({ method: 'POST', path: '/_bulk' }, (params: MockPattern) => this.guard(params, () => this.bulk(params.body as unknown[])));
    this.on('PUT', '/:index/_doc/:id', (request) => {
      const [index, id] = docAddress(request.path);
      const documents = this.indices.get(index) ?? new Map<string, unknown>();
      this.indices.set(index, documents);
      const result = documents.has(id) ? 'updated' : 'created';
      documents.set(id, request.body);
      return { _index: index, _id: id, result };
    });
    this.on('GET', '/:index/_doc/:id', (request) => {
      const [index, id] = docAddress(request.path);
      const source = this.indices.get(index)?.get(id);
      if (source === undefined) return new mockErrors.ResponseError({ statusCode: 404, body: { _index: index, _id: id, found: false }, headers: {}, warnings: [], meta: {} as never });
      return { _index: index, _id: id, found: true, _source: source };
    });
  }

  /** A client whose HTTP layer is this cluster; no retries inside the client, so tests see each failure. */
  client(): Client {
    // The mock's connection class leaves close() to subclasses; the real ones release sockets there.
    const MockConnection = this.mock.getConnection() as unknown as new (...args: unknown[]) => object;
    class ClosableConnection extends MockConnection {
      async close(): Promise<void> {}
    }
    return new Client({ node: 'http://es.test:9200', Connection: ClosableConnection as never, maxRetries: 0 });
  }

  /** Answers requests matching the pattern (instead of any earlier answer), recording them. */
  on(method: string, path: string, answer: (request: RecordedRequest) => unknown): void {
    this.mock.clear({ method, path });
    this.mock.add({ method, path }, (params: MockPattern) => this.guard(params, () => answer(this.requests.at(-1)!)));
  }

  /** The recorded requests to a path. */
  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  /** The documents stored in a data stream. */
  documents(stream: string): Record<string, unknown>[] {
    return [...(this.streams.get(stream)?.values() ?? [])];
  }

  private guard(params: MockPattern, answer: () => unknown): Record<string, unknown> | string {
    const request: RecordedRequest = {
      method: params.method as string,
      path: params.path as string,
      querystring: params.querystring ?? {},
      body: params.body,
    };
    this.requests.push(request);
    if (this.down) return new mockErrors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200') as unknown as Record<string, unknown>;
    return answer() as Record<string, unknown> | string;
  }

  private bulk(lines: unknown[]): Record<string, unknown> {
    this.bulkBodies.push(lines);
    const items: unknown[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const action = (lines[i] as { create: { _index: string; _id: string } }).create;
      const document = lines[i + 1] as Record<string, unknown>;
      const backing = `.ds-${action._index}-2026.01.01-000001`;
      const fault = this.itemFault({ index: action._index, id: action._id }, document);
      if (fault) {
        items.push({ create: { _index: backing, _id: action._id, status: fault.status, error: { type: fault.type, reason: fault.reason } } });
        continue;
      }
      const stream = this.streams.get(action._index) ?? new Map<string, Record<string, unknown>>();
      this.streams.set(action._index, stream);
      if (stream.has(action._id)) {
        const reason = `[${action._id}]: version conflict, document already exists (current version [1])`;
        items.push({ create: { _index: backing, _id: action._id, status: 409, error: { type: 'version_conflict_engine_exception', reason } } });
        continue;
      }
      stream.set(action._id, document);
      items.push({ create: { _index: backing, _id: action._id, _version: 1, result: 'created', status: 201 } });
    }
    return { took: 1, errors: items.some((item) => (item as { create: { status: number } }).create.status >= 300), items };
  }
}
