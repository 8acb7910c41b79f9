/**
 * Canonical tool identity: the hash detectors pin and compare to see a tool definition change
 * (drift, rug pulls), independent of key order or whitespace on the wire.
 */
import { createHash } from 'node:crypto';

/** The parts of a tool definition that define what the model is told and what the tool accepts. */
export interface ToolDefinition {
  name: string;
  title?: unknown;
  description?: unknown;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}

/**
 * JSON with object keys sorted (by UTF-16 code units) and no whitespace; for JSON data this is the
 * RFC 8785 form. Like JSON.stringify, undefined members are left out and non-finite numbers are null.
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const record = v as Record<string, unknown>;
  const members = Object.keys(record)
    .sort()
    .filter((k) => record[k] !== undefined && typeof record[k] !== 'function')
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
  return `{${members.join(',')}}`;
}

/** SHA-256 (hex) of the canonical JSON of name, title, description, inputSchema, outputSchema and annotations. */
export function toolHash(tool: ToolDefinition): string {
  const { name, title, description, inputSchema, outputSchema, annotations } = tool;
  return createHash('sha256').update(canonicalJson({ name, title, description, inputSchema, outputSchema, annotations }), 'utf8').digest('hex');
}
