/**
 * Event and alert reads for the CLI (`tapwire events|alerts --store es`), with the embedded store's filters and
 * order. Pages are read with search_after, and documents repeated across backing indices (a replay after a rollover
 * can write an _id twice) are skipped by event.id / alert.fingerprint.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import type { AlertQuery, EventQuery } from '../store.js';
import type { McpAlert } from '../types/mcpAlert.js';
import type { McpEvent } from '../types/mcpEvent.js';
import { eventFromDocument } from './esDocuments.js';
import type { EsNames } from './esNames.js';

/** Hits per search request. */
const PAGE_SIZE = 1000;
/** Most ids a server name can have carried that a filter looks up. */
const MAX_SERVER_IDS = 1000;
/** A missing data stream reads as empty, as an empty embedded store does. */
export const TOLERANT = { ignore_unavailable: true, allow_no_indices: true } as const;

/** A document's _source. */
export type Source = Record<string, unknown>;
type Sort = estypes.SortCombinations[];

/** A time range filter on @timestamp: since inclusive, until exclusive (epoch ms). */
export function timeRange(since?: number, until?: number): estypes.QueryDslQueryContainer[] {
  if (since === undefined && until === undefined) return [];
  return [{ range: { '@timestamp': { ...(since === undefined ? {} : { gte: since }), ...(until === undefined ? {} : { lt: until }), format: 'epoch_millis' } } }];
}

/** The server ids a name-or-id selects: the value itself and every id that carried it as mcp.server.name. */
export async function serverIdsNamed(client: Client, messages: string, server: string): Promise<string[]> {
  const response = await client.search<Source, { ids: estypes.AggregationsStringTermsAggregate }>({
    index: messages,
    ...TOLERANT,
    size: 0,
    query: { term: { 'mcp.server.name': server } },
    aggs: { ids: { terms: { field: 'mcp.server.id', size: MAX_SERVER_IDS } } },
  });
  const buckets = response.aggregations?.ids.buckets;
  const ids = Array.isArray(buckets) ? buckets.map((b) => String(b.key)) : [];
  return [...new Set([server, ...ids])];
}

/** The filter for `server` (a name or id) on events: any id it names. */
export async function serverFilter(client: Client, names: EsNames, server: string | undefined): Promise<estypes.QueryDslQueryContainer[]> {
  if (server === undefined) return [];
  return [{ terms: { 'mcp.server.id': await serverIdsNamed(client, names.messages, server) } }];
}

/** A dotted field of a document source ('event.id' → source.event.id). */
export function sourceField(source: Source, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((value, key) => (value as Source | undefined)?.[key], source);
}

const term = (field: string, value: string | undefined): estypes.QueryDslQueryContainer[] => (value === undefined ? [] : [{ term: { [field]: value } }]);

/** The event query as Elasticsearch filters. */
async function eventFilters(client: Client, names: EsNames, query: EventQuery): Promise<estypes.QueryDslQueryContainer[]> {
  // The embedded store's "method" is mcp.method.name, or event.action for lifecycle events that carry no method.
  const method: estypes.QueryDslQueryContainer[] =
    query.method === undefined
      ? []
      : [
          {
            bool: {
              should: [
                { term: { 'mcp.method.name': query.method } },
                { bool: { must_not: { exists: { field: 'mcp.method.name' } }, filter: { term: { 'event.action': query.method } } } },
              ],
              minimum_should_match: 1,
            },
          },
        ];
  return [
    ...term('mcp.session.id', query.session),
    ...(await serverFilter(client, names, query.server)),
    ...term('mcp.host_session.id', query.hostSession),
    ...method,
    ...term('gen_ai.tool.name', query.tool),
    ...term('mcp.message.kind', query.kind),
    ...timeRange(query.since, query.until),
  ];
}

/**
 * Reads hits page by page in `sort` order (whose last key must be unique), skipping repeated keys, until `limit`
 * distinct documents are read or none are left.
 */
async function readDistinct(
  client: Client,
  index: string,
  filter: estypes.QueryDslQueryContainer[],
  sort: Sort,
  keyOf: (source: Source) => string,
  limit: number | undefined,
): Promise<Source[]> {
  const out: Source[] = [];
  const seen = new Set<string>();
  let after: estypes.SortResults | undefined;
  for (;;) {
    const response = await client.search<Source>({
      index,
      ...TOLERANT,
      size: PAGE_SIZE,
      track_total_hits: false,
      query: { bool: { filter } },
      sort,
      ...(after === undefined ? {} : { search_after: after }),
    });
    const hits = response.hits.hits;
    for (const hit of hits) {
      const source = hit._source;
      if (!source) continue;
      const key = keyOf(source);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(source);
      if (limit !== undefined && out.length >= limit) return out;
    }
    after = hits.at(-1)?.sort;
    if (hits.length < PAGE_SIZE || after === undefined) return out;
  }
}

/** Events matching the query, as EmbeddedStore.events orders them: by sequence within a session, else by time. */
export async function searchEvents(client: Client, names: EsNames, query: EventQuery): Promise<McpEvent[]> {
  const order = query.order === 'desc' ? 'desc' : 'asc';
  const sort: Sort =
    query.session === undefined
      ? [{ '@timestamp': order }, { 'event.sequence': order }, { 'event.id': order }]
      : [{ 'event.sequence': order }, { 'event.id': order }];
  const filter = await eventFilters(client, names, query);
  const sources = await readDistinct(client, names.messages, filter, sort, (s) => String(sourceField(s, 'event.id')), query.limit);
  return sources.map(eventFromDocument);
}

/** Alerts matching the query, newest first, as EmbeddedStore.alerts returns them. */
export async function searchAlerts(client: Client, names: EsNames, query: AlertQuery): Promise<McpAlert[]> {
  const server: estypes.QueryDslQueryContainer[] =
    query.server === undefined
      ? []
      : [
          {
            bool: {
              should: [{ term: { 'mcp.server.name': query.server } }, { terms: { 'mcp.server.id': await serverIdsNamed(client, names.messages, query.server) } }],
              minimum_should_match: 1,
            },
          },
        ];
  const filter: estypes.QueryDslQueryContainer[] = [
    ...timeRange(query.since, query.until),
    ...(query.minSeverity === undefined ? [] : [{ range: { 'event.severity': { gte: query.minSeverity } } }]),
    ...term('mcp.session.id', query.session),
    ...server,
    ...term('rule.id', query.ruleId),
  ];
  const sort: Sort = [{ '@timestamp': 'desc' }, { 'alert.fingerprint': 'asc' }];
  const sources = await readDistinct(client, names.alerts, filter, sort, (s) => String(sourceField(s, 'alert.fingerprint')), query.limit);
  return sources as unknown as McpAlert[];
}
