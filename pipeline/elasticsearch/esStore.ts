/**
 * The Elasticsearch Store: events in logs-mcp.messages-<namespace>, alerts in logs-mcp.alerts-<namespace>, the
 * inventory views as aggregations over the events. Writes go through the BulkWriter (create with event.id /
 * alert.fingerprint as _id, so redelivery is idempotent); readers serve the CLI.
 *
 * Positions: the embedded store records a source offset in the same transaction as the events. Elasticsearch has no
 * transaction across documents, so the offset is written after the events are accounted for: a crash in between
 * re-sends the batch, whose documents then come back as duplicates (409), never as losses.
 */
import { errors, type Client } from '@elastic/elasticsearch';
import type { AlertQuery, EventQuery, IngestResult, ServerSummary, SessionSummary, Store, ToolSummary } from '../store.js';
import type { McpAlert } from '../types/mcpAlert.js';
import type { McpEvent } from '../types/mcpEvent.js';
import { BulkWriter, isTransientEsError, type BulkWriteResult, type BulkWriterOptions } from './bulkWriter.js';
import { alertDocument, eventDocument, type TextFieldsOf } from './esDocuments.js';
import { searchServers, searchSessions, searchTools } from './esInventory.js';
import { esNames, type EsNames } from './esNames.js';
import { searchAlerts, searchEvents } from './esSearch.js';

export interface EsStoreOptions extends BulkWriterOptions {
  /** Data stream namespace (default "default"). */
  namespace?: string;
  /** Computes the derived text fields indexed with each event (mcp.text.descriptions, mcp.text.result). */
  textFieldsOf?: TextFieldsOf;
}

/** An ingest result that also counts documents sent to the dead-letter queue. */
export type EsIngestResult = IngestResult & { deadLettered: number };

/** The Store over an Elasticsearch cluster; it owns the client and closes it. */
export class EsStore implements Store {
  readonly names: EsNames;
  readonly writer: BulkWriter;

  constructor(
    readonly client: Client,
    private readonly options: EsStoreOptions = {},
  ) {
    this.names = esNames(options.namespace);
    this.writer = new BulkWriter(client, options);
  }

  /** Creates the events (by event.id), then records `position` once every event is accounted for. */
  async ingestEvents(events: readonly McpEvent[], position?: { source: string; offset: number }): Promise<EsIngestResult> {
    const documents = events.map((event, index) => ({
      id: requiredId(event.event?.id, `event (item ${index} of the batch) has no event.id`),
      document: eventDocument(event, this.names.namespace, this.options.textFieldsOf),
    }));
    const result = ingestResult(await this.writer.write(this.names.messages, documents));
    if (position) await this.writePosition(position.source, position.offset);
    return result;
  }

  /** The last offset recorded for a source, or -1. */
  async position(source: string): Promise<number> {
    try {
      const response = await this.client.get<{ offset: number }>({ index: this.names.positions, id: source });
      return response._source?.offset ?? -1;
    } catch (error) {
      if (error instanceof errors.ResponseError && error.statusCode === 404) return -1;
      throw error;
    }
  }

  /** Creates the alerts (by alert.fingerprint). */
  async putAlerts(alerts: readonly McpAlert[]): Promise<EsIngestResult> {
    const documents = alerts.map((alert, index) => ({
      id: requiredId(alert.alert?.fingerprint, `alert (item ${index} of the batch) has no alert.fingerprint`),
      document: alertDocument(alert, this.names.namespace),
    }));
    return ingestResult(await this.writer.write(this.names.alerts, documents));
  }

  /** Events matching the query (see searchEvents). */
  async events(query: EventQuery): Promise<McpEvent[]> {
    return searchEvents(this.client, this.names, query);
  }

  /** Alerts matching the query, newest first. */
  async alerts(query: AlertQuery): Promise<McpAlert[]> {
    return searchAlerts(this.client, this.names, query);
  }

  /** Sessions, most recently active first. */
  async sessions(query: { since?: number; server?: string; limit?: number }): Promise<SessionSummary[]> {
    return searchSessions(this.client, this.names, query);
  }

  /** Servers by name, with their hosts. */
  async servers(query: { since?: number }): Promise<ServerSummary[]> {
    return searchServers(this.client, this.names, query);
  }

  /** Tool definitions per server, name and hash. */
  async tools(query: { server?: string }): Promise<ToolSummary[]> {
    return searchTools(this.client, this.names, query);
  }

  /** Stops pending writes from waiting and closes the client. */
  async close(): Promise<void> {
    this.writer.close();
    await this.client.close();
  }

  /** Writes the offset, waiting out an unreachable cluster like the bulk writer does. */
  private async writePosition(source: string, offset: number): Promise<void> {
    const document = { source, offset, '@timestamp': new Date().toISOString() };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.index({ index: this.names.positions, id: source, document });
        return;
      } catch (error) {
        if (!isTransientEsError(error)) throw error;
        await this.writer.waitForRetry(attempt, error);
      }
    }
  }
}

function requiredId(id: string | undefined, problem: string): string {
  if (typeof id !== 'string' || id === '') throw new Error(`store: ${problem}`);
  return id;
}

function ingestResult(written: BulkWriteResult): EsIngestResult {
  return { inserted: written.inserted, duplicates: written.duplicates, deadLettered: written.deadLettered };
}
