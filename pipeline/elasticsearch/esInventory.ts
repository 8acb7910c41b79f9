/**
 * The inventory views (sessions, servers, tools) as aggregations over the messages data stream. The embedded store
 * keeps these as tables updated at ingest; Elasticsearch computes them at read time, with the same rules: a session's
 * or server's fields are those of its latest event that carries them, counts are of distinct event ids, and a tool
 * is one definition (server, hash) with when it was first and last listed.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import type { ServerSummary, SessionSummary, ToolSummary } from '../store.js';
import type { EsNames } from './esNames.js';
import { serverFilter, sourceField, TOLERANT, type Source } from './esSearch.js';

/**
 * Sessions returned when the query sets no limit. Each session bucket holds seven sub-buckets (one per optional
 * field), and the cluster refuses a search over search.max_buckets (65,536 by default).
 */
export const MAX_SESSIONS = 5000;
/** Hosts listed per server. */
export const MAX_HOSTS_PER_SERVER = 100;
/** Composite buckets per page for servers and tools. */
const COMPOSITE_PAGE = 100;
/** cardinality is exact in practice below this many distinct values. */
const PRECISION = 40_000;

type Aggregations = Record<string, estypes.AggregationsAggregationContainer>;
const LATEST_FIRST: estypes.SortCombinations[] = [{ '@timestamp': 'desc' }, { 'event.sequence': 'desc' }];

/** The latest event's values of `fields`. */
function latest(fields: string[]): estypes.AggregationsAggregationContainer {
  return { top_hits: { size: 1, sort: LATEST_FIRST, _source: { includes: fields } } };
}

/** The latest value of each optional field, from the latest event that has it. */
function latestPresent(fields: Record<string, string>): Aggregations {
  return Object.fromEntries(
    Object.entries(fields).map(([name, field]) => [name, { filter: { exists: { field } }, aggs: { hit: latest([field]) } }]),
  );
}

const TIME_SPAN: Aggregations = { first_seen: { min: { field: '@timestamp' } }, last_seen: { max: { field: '@timestamp' } } };

/** One bucket of the aggregations above, as the response holds it. */
interface Bucket {
  key: string | Record<string, string>;
  first_seen: { value: number | null };
  last_seen: { value: number | null };
  latest: { hits: { hits: { _source?: Source }[] } };
  [optional: string]: unknown;
}

function latestSource(bucket: Bucket): Source {
  return bucket.latest.hits.hits[0]?._source ?? {};
}

/** The value of an optional field from its latestPresent sub-aggregation, or undefined. */
function present(bucket: Bucket, name: string, field: string): unknown {
  const sub = bucket[name] as { hit?: { hits: { hits: { _source?: Source }[] } } } | undefined;
  const source = sub?.hit?.hits.hits[0]?._source;
  return source === undefined ? undefined : sourceField(source, field);
}

const optionalString = (value: unknown): string | undefined => (value === undefined || value === null ? undefined : String(value));
const cardinality = (bucket: Bucket, name: string): number => (bucket[name] as { value: number }).value;

const SESSION_OPTIONAL = {
  host_session: 'mcp.host_session.id',
  server_version: 'mcp.server.version',
  client_name: 'mcp.client.name',
  client_version: 'mcp.client.version',
  protocol_version: 'mcp.protocol.version',
  pid: 'process.pid',
} as const;

/** Sessions, most recently active first; `since` keeps sessions active since then (whole summaries, as embedded). */
export async function searchSessions(client: Client, names: EsNames, query: { since?: number; server?: string; limit?: number }): Promise<SessionSummary[]> {
  const aggs: Aggregations = {
    ...TIME_SPAN,
    events: { cardinality: { field: 'event.id', precision_threshold: PRECISION } },
    ended: { filter: { term: { 'event.action': 'session.end' } } },
    latest: latest(['mcp.server.id', 'mcp.server.name', 'mcp.transport', 'host.hostname']),
    ...latestPresent(SESSION_OPTIONAL),
  };
  const response = await client.search<Source, { sessions: { buckets: Bucket[] } }>({
    index: names.messages,
    ...TOLERANT,
    size: 0,
    query: { bool: { filter: await serverFilter(client, names, query.server) } },
    aggs: {
      sessions: {
        terms: { field: 'mcp.session.id', size: Math.min(query.limit ?? MAX_SESSIONS, MAX_SESSIONS), order: [{ last_seen: 'desc' }, { _key: 'asc' }] },
        aggs,
      },
    },
  });
  // `since` filters here, not with a bucket_selector: that needs the scripting and aggregations modules, which a
  // stripped distribution lacks. Buckets come newest first, so the ones kept are exactly the ones it would keep.
  const buckets = (response.aggregations?.sessions.buckets ?? []).filter((bucket) => query.since === undefined || (bucket.last_seen.value ?? 0) >= query.since);
  return buckets.map((bucket) => {
    const source = latestSource(bucket);
    const pid = present(bucket, 'pid', SESSION_OPTIONAL.pid);
    return {
      id: String(bucket.key),
      hostSessionId: optionalString(present(bucket, 'host_session', SESSION_OPTIONAL.host_session)),
      serverId: String(sourceField(source, 'mcp.server.id')),
      serverName: String(sourceField(source, 'mcp.server.name')),
      serverVersion: optionalString(present(bucket, 'server_version', SESSION_OPTIONAL.server_version)),
      transport: String(sourceField(source, 'mcp.transport')),
      clientName: optionalString(present(bucket, 'client_name', SESSION_OPTIONAL.client_name)),
      clientVersion: optionalString(present(bucket, 'client_version', SESSION_OPTIONAL.client_version)),
      protocolVersion: optionalString(present(bucket, 'protocol_version', SESSION_OPTIONAL.protocol_version)),
      hostname: String(sourceField(source, 'host.hostname')),
      pid: pid === undefined ? undefined : Number(pid),
      firstSeen: bucket.first_seen.value ?? 0,
      lastSeen: bucket.last_seen.value ?? 0,
      events: cardinality(bucket, 'events'),
      ended: (bucket.ended as { doc_count: number }).doc_count > 0,
    };
  });
}

/** Every bucket of a composite aggregation, page by page. */
async function compositeBuckets(
  client: Client,
  index: string,
  filter: estypes.QueryDslQueryContainer[],
  sources: Record<string, estypes.AggregationsCompositeAggregationSource>[],
  aggs: Aggregations,
): Promise<Bucket[]> {
  const out: Bucket[] = [];
  let after: Record<string, string> | undefined;
  for (;;) {
    const response = await client.search<Source, { page: { buckets: Bucket[]; after_key?: Record<string, string> } }>({
      index,
      ...TOLERANT,
      size: 0,
      query: { bool: { filter } },
      aggs: { page: { composite: { size: COMPOSITE_PAGE, sources, ...(after === undefined ? {} : { after }) }, aggs } },
    });
    const page = response.aggregations?.page;
    out.push(...(page?.buckets ?? []));
    if (!page || page.buckets.length < COMPOSITE_PAGE || page.after_key === undefined) return out;
    after = page.after_key;
  }
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compositeKey = (bucket: Bucket, name: string): string => (bucket.key as Record<string, string>)[name] ?? '';

/** Servers by name (then id), with the hosts each ran on; `since` keeps servers active since then. */
export async function searchServers(client: Client, names: EsNames, query: { since?: number }): Promise<ServerSummary[]> {
  const buckets = await compositeBuckets(client, names.messages, [], [{ id: { terms: { field: 'mcp.server.id' } } }], {
    ...TIME_SPAN,
    sessions: { cardinality: { field: 'mcp.session.id', precision_threshold: PRECISION } },
    events: { cardinality: { field: 'event.id', precision_threshold: PRECISION } },
    hosts: { terms: { field: 'host.hostname', size: MAX_HOSTS_PER_SERVER } },
    latest: latest(['mcp.server.name', 'mcp.transport']),
    ...latestPresent({ reported_name: 'mcp.server.reported_name', version: 'mcp.server.version' }),
  });
  return buckets
    .filter((bucket) => query.since === undefined || (bucket.last_seen.value ?? 0) >= query.since)
    .map((bucket): ServerSummary => {
      const source = latestSource(bucket);
      const hosts = (bucket.hosts as { buckets: { key: string }[] }).buckets.map((b) => String(b.key)).sort(byText);
      return {
        id: compositeKey(bucket, 'id'),
        name: String(sourceField(source, 'mcp.server.name')),
        reportedName: optionalString(present(bucket, 'reported_name', 'mcp.server.reported_name')),
        version: optionalString(present(bucket, 'version', 'mcp.server.version')),
        transport: String(sourceField(source, 'mcp.transport')),
        firstSeen: bucket.first_seen.value ?? 0,
        lastSeen: bucket.last_seen.value ?? 0,
        sessions: cardinality(bucket, 'sessions'),
        events: cardinality(bucket, 'events'),
        hosts,
      };
    })
    .sort((a, b) => byText(a.name, b.name) || byText(a.id, b.id));
}

/** Tool definitions seen in tools/list results: one per server, name and hash. */
export async function searchTools(client: Client, names: EsNames, query: { server?: string }): Promise<ToolSummary[]> {
  const filter = [{ exists: { field: 'mcp.tools.hash' } }, ...(await serverFilter(client, names, query.server))];
  // mcp.tools is an object array (not nested, so rules can query it with KQL and EQL): the composite pairs each
  // server with every hash its events listed, and the tool itself is found by hash in the latest such event.
  const buckets = await compositeBuckets(client, names.messages, filter, [{ server: { terms: { field: 'mcp.server.id' } } }, { hash: { terms: { field: 'mcp.tools.hash' } } }], {
    ...TIME_SPAN,
    latest: latest(['mcp.server.name', 'mcp.tools.name', 'mcp.tools.hash', 'mcp.tools.description']),
  });
  return buckets
    .map((bucket): ToolSummary => {
      const source = latestSource(bucket);
      const hash = compositeKey(bucket, 'hash');
      const tools = (sourceField(source, 'mcp.tools') as { name: string; hash: string; description?: string }[] | undefined) ?? [];
      const tool = tools.find((t) => t.hash === hash);
      return {
        serverId: compositeKey(bucket, 'server'),
        serverName: String(sourceField(source, 'mcp.server.name')),
        name: tool?.name ?? '',
        hash,
        description: tool?.description,
        firstSeen: bucket.first_seen.value ?? 0,
        lastSeen: bucket.last_seen.value ?? 0,
      };
    })
    .sort((a, b) => byText(a.serverName, b.serverName) || byText(a.serverId, b.serverId) || byText(a.name, b.name) || a.firstSeen - b.firstSeen);
}
