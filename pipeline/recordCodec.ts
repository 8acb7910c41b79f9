/**
 * The one codec of bus records: what an events record, a serverEvents record and an alerts record hold, and the one
 * shape of a dead letter. Every loop that reads or writes these topics goes through here, so a record refused by one
 * path is refused, with the same reason, by every other.
 */
import type { OutgoingRecord } from './bus.js';
import { checkEvent } from './schemaValidator.js';
import type { McpAlert } from './types/mcpAlert.js';
import type { McpEvent } from './types/mcpEvent.js';

/** The store's and the state's position name for a bus topic. */
export function busSource(topic: string): string {
  return `bus:${topic}`;
}

/**
 * The text each decoded event was read from. Storing an event writes its JSON, and serializing it again cost the
 * embedded store about as much as inserting its row (BENCHMARKS.md, embedded loops): the record's own text is that
 * JSON already. Weak, so it goes with the event.
 */
const decodedFrom = new WeakMap<McpEvent, string>();
/** The serverEvents record text each event decoded from one was read from: an envelope that holds its JSON whole. */
const envelopedIn = new WeakMap<McpEvent, string>();

/**
 * The record text an event was decoded from, which holds every string of the event as JSON writes it (its own JSON,
 * or a serverEvents envelope around it); undefined for an event made in this process. Absent from that text, a
 * character is absent from the event, unless written as a JSON escape (`\uXXXX`): detection uses it to skip walking
 * the whole event for characters it cannot hold.
 */
export function recordTextOf(event: McpEvent): string | undefined {
  return decodedFrom.get(event) ?? envelopedIn.get(event);
}

/** A decoded events record: the MCP event, or why it is not one (the dead letter's error). */
export type DecodedEvent = { event: McpEvent } | { error: string };

/** The MCP event in a record's value, or why it is not one (the dead letter's error). */
export function decodeEvent(value: string): DecodedEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}` };
  }
  const checked = checkedEvent(parsed);
  if ('event' in checked) decodedFrom.set(checked.event, value);
  return checked;
}

/**
 * An event as JSON text: the record text it was decoded from, or its serialization. Stores call it before anything
 * else touches the event (a decoded event is not changed on its way to the store).
 */
export function encodeEvent(event: McpEvent): string {
  return decodedFrom.get(event) ?? JSON.stringify(event);
}

function checkedEvent(value: unknown): { event: McpEvent } | { error: string } {
  const check = checkEvent(value);
  if (!check.valid) return { error: `not a valid MCP event: ${check.errors.join('; ')}` };
  return { event: value as McpEvent };
}

/** A record of the serverEvents topic: an event and where it came from in the events topic. */
export interface ServerEventRecord {
  from: { partition: number; offset: number };
  event: McpEvent;
}

/** The serverEvents record of an event, keyed by its server identity (whole servers share a partition). */
export function encodeServerEvent(record: ServerEventRecord): OutgoingRecord {
  return { key: record.event.mcp.server.id, value: JSON.stringify(record) };
}

/** The event and source position a serverEvents record carries, or why it carries none. */
export function decodeServerEvent(value: string): ServerEventRecord | { error: string } {
  let envelope: Partial<ServerEventRecord> | undefined;
  try {
    envelope = JSON.parse(value) as Partial<ServerEventRecord>;
  } catch {
    envelope = undefined;
  }
  const from = envelope?.from;
  if (!from || !Number.isInteger(from.partition) || !Number.isInteger(from.offset) || envelope?.event === undefined) {
    return { error: 'not a serverEvents record ({from: {partition, offset}, event})' };
  }
  const checked = checkedEvent(envelope.event);
  if (!('event' in checked)) return checked;
  envelopedIn.set(checked.event, value);
  return { from, event: checked.event };
}

/** The alerts-topic record of an alert, keyed by its server (or rule, when no server is involved). */
export function encodeAlert(alert: McpAlert): OutgoingRecord {
  return { key: alert.mcp?.server?.id ?? alert.rule.id, value: JSON.stringify(alert) };
}

/**
 * A record Tapwire could not use, as the dead-letter topic holds it, whoever refused it: a loop that could not decode
 * it, Elasticsearch that could not map it, a broker that would not take it.
 */
export interface DeadLetter {
  refusedBy: 'decoder' | 'elasticsearch' | 'kafka';
  /** The bus topic the record was read from or sent to, or the Elasticsearch index it was meant for. */
  topic: string;
  partition?: number;
  offset?: number;
  timestamp?: number;
  /** The record's key (the document id for Elasticsearch). */
  key: string | null;
  /** Why it was refused. */
  error: string;
  /** Elasticsearch's HTTP status for the document. */
  status?: number;
  /** The record's value (cut to its start when the whole would be refused again), or the refused document as JSON. */
  value: string;
  /** The size of the whole record, when `value` is cut. */
  bytes?: number;
}

/** The dead-letter topic's record of a letter. */
export function encodeDeadLetter(letter: DeadLetter): OutgoingRecord {
  return { key: letter.key ?? '', value: JSON.stringify(letter) };
}
