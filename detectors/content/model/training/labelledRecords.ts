/**
 * Labelled text records in the format of the shared datasets (one JSON object a line: id, source, field, label,
 * attack, tool_name, server, text, split, meta). The training script and `tapwire eval` read them; a bad line is
 * reported as FILE:LINE with the field and skipped, and every good line is kept.
 */
import { readFileSync } from 'node:fs';

export type RecordField = 'tool_description' | 'tool_result' | 'tool_arguments';

export interface LabelledRecord {
  id: string;
  source: string;
  field: RecordField;
  label: 'malicious' | 'benign';
  attack: string;
  tool_name: string | null;
  server: string | null;
  text: string;
  split: string | null;
  meta: Record<string, unknown>;
  /** Where it was read from, for messages. */
  origin: string;
}

const FIELDS: ReadonlySet<string> = new Set(['tool_description', 'tool_result', 'tool_arguments']);

/** One bad line. */
export class RecordError extends Error {}

function parseRecord(file: string, lineNumber: number, line: string): LabelledRecord {
  const at = `${file}:${lineNumber}`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new RecordError(`${at}: not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RecordError(`${at}: a record must be a JSON object`);
  const r = value as Record<string, unknown>;
  const text = (key: string): string => {
    const v = r[key];
    if (typeof v !== 'string' || v === '') throw new RecordError(`${at}: field '${key}' must be a non-empty string`);
    return v;
  };
  const optional = (key: string): string | null => {
    const v = r[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') throw new RecordError(`${at}: field '${key}' must be a string or null`);
    return v;
  };
  const field = text('field');
  if (!FIELDS.has(field)) throw new RecordError(`${at}: field 'field' must be one of ${[...FIELDS].join(', ')} (got '${field}')`);
  const label = text('label');
  if (label !== 'malicious' && label !== 'benign') throw new RecordError(`${at}: field 'label' must be 'malicious' or 'benign' (got '${label}')`);
  const attack = text('attack');
  if ((label === 'benign') !== (attack === 'none')) throw new RecordError(`${at}: field 'attack' must be 'none' exactly when label is benign (got '${attack}')`);
  if (typeof r.text !== 'string') throw new RecordError(`${at}: field 'text' must be a string`);
  const meta = r.meta ?? {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new RecordError(`${at}: field 'meta' must be an object`);
  return {
    id: text('id'),
    source: text('source'),
    field: field as RecordField,
    label,
    attack,
    tool_name: optional('tool_name'),
    server: optional('server'),
    text: r.text,
    split: optional('split'),
    meta: meta as Record<string, unknown>,
    origin: at,
  };
}

/** The records of JSONL files; bad lines become errors, good ones are all kept. */
export function readLabelledRecords(files: readonly string[]): { records: LabelledRecord[]; errors: string[] } {
  const records: LabelledRecord[] = [];
  const errors: string[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        records.push(parseRecord(file, i + 1, line));
      } catch (error) {
        if (!(error instanceof RecordError)) throw error;
        errors.push(error.message);
      }
    });
  }
  return { records, errors };
}

/** A short name for a record's source: the id prefix (toolsdk, bipia, …), as the datasets README names them. */
export function sourceName(record: LabelledRecord): string {
  const dash = record.id.lastIndexOf('-');
  return dash > 0 ? record.id.slice(0, dash) : record.source;
}
