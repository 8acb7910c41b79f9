/**
 * The console's JSON API: reads go to the store through the same store-opening code the CLI commands use (opened
 * per request, so the embedded store is caught up from the bus each time and nothing stays locked); drift review
 * and decisions go to the detector state `tapwire approve` uses (service/driftStates.ts): the home's state.sqlite,
 * or the group members' partition state files when Kafka or Elasticsearch is configured.
 */
import { IdLookupError } from '../../service/alertView/storeLookup.js';
import type { Store } from '../../pipeline/store.js';
import type { DriftStates } from '../../service/driftStates.js';
import { alertDetail, findAlert, listAlerts, type AlertFilter } from './alertViews.js';
import type { DecisionRequest } from '../api/consoleApiTypes.js';
import { DecisionConflict, decide, reviewItems } from './driftReview.js';
import { inventory } from './inventoryView.js';
import { sessionTimeline } from './sessionTimeline.js';

export interface ConsoleData {
  /** Runs `work` against the configured store, opened for this request. */
  withStore<T>(work: (store: Store) => Promise<T>): Promise<T>;
  /** Runs `work` on the drift ledgers `tapwire approve` decides on, opened for this request (none before detection ran). */
  withDriftStates<T>(work: (states: DriftStates) => T | Promise<T>): Promise<T>;
  /** What the console reads from, for the header: "embedded /path" or "elasticsearch http://…". */
  source: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export class BadRequest extends Error {}

const ok = (body: unknown): ApiResponse => ({ status: 200, body });
const notFound = (what: string): ApiResponse => ({ status: 404, body: { error: `${what} not found` } });

const SEVERITIES: Record<string, number> = { low: 21, medium: 47, high: 73, critical: 99 };

function timeParam(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  if (!value) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new BadRequest(`${name}: expected an ISO time, got '${value}'`);
  return ms;
}

function alertFilter(params: URLSearchParams): AlertFilter {
  const filter: AlertFilter = { limit: Math.min(Number(params.get('limit') ?? 200) || 200, 5000) };
  const severity = params.get('severity');
  if (severity) {
    const value = SEVERITIES[severity];
    if (value === undefined) throw new BadRequest(`severity: expected low, medium, high or critical, got '${severity}'`);
    filter.severity = value;
  }
  for (const name of ['rule', 'server', 'host'] as const) {
    const value = params.get(name);
    if (value) filter[name] = value;
  }
  const since = timeParam(params, 'since');
  const until = timeParam(params, 'until');
  if (since !== undefined) filter.since = since;
  if (until !== undefined) filter.until = until;
  return filter;
}

function decisionRequest(body: unknown): DecisionRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  for (const field of ['server_id', 'key', 'hash'] as const) if (typeof b[field] !== 'string' || b[field] === '') throw new BadRequest(`${field}: expected a string`);
  if (b.decision !== 'approve' && b.decision !== 'reject') throw new BadRequest(`decision: expected approve or reject`);
  return { server_id: b.server_id as string, key: b.key as string, hash: b.hash as string, decision: b.decision };
}

/** Answers one API request (path without the /api prefix). */
export async function answer(data: ConsoleData, method: string, path: string, params: URLSearchParams, body: unknown): Promise<ApiResponse> {
  const [, resource, id] = path.split('/').map(decodeURIComponent);
  if (method === 'GET') {
    switch (resource) {
      case 'overview':
        return ok({ source: data.source });
      case 'alerts':
        return data.withStore(async (store) => {
          if (id === undefined) return ok(await listAlerts(store, alertFilter(params)));
          try {
            return ok(await alertDetail(store, await findAlert(store, id)));
          } catch (error) {
            if (error instanceof IdLookupError) return { status: 404, body: { error: error.message } };
            throw error;
          }
        });
      case 'sessions':
        if (id === undefined) throw new BadRequest('missing session id');
        return data.withStore(async (store) => {
          const timeline = await sessionTimeline(store, id);
          return timeline ? ok(timeline) : notFound(`session ${id}`);
        });
      case 'inventory':
        return data.withStore(async (store) => ok({ servers: await data.withDriftStates((states) => inventory(store, states.states)) }));
      case 'changes':
        return ok({ changes: await data.withDriftStates(reviewItems) });
    }
  }
  if (method === 'POST' && resource === 'decisions') {
    const request = decisionRequest(body);
    try {
      await data.withDriftStates((states) => decide(states, request, new Date().toISOString()));
    } catch (error) {
      if (error instanceof DecisionConflict) return { status: 409, body: { error: error.message } };
      throw error;
    }
    return ok({ decided: request });
  }
  return { status: method === 'GET' || method === 'POST' ? 404 : 405, body: { error: `no ${method} /api${path}` } };
}
