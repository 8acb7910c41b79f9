/**
 * Recognises the JSON-RPC 2.0 shapes MCP uses. Lenient where the wire is (params of any JSON type, an
 * error whose id is missing), strict where a tap must not guess (the "2.0" marker, id types).
 */

/** A JSON-RPC id: MCP allows strings and numbers (0 included), never null on requests. */
export type RequestId = string | number;

/** A JSON-RPC error object as received: fields unchecked, since servers get them wrong. */
export interface JsonRpcError {
  code?: unknown;
  message?: unknown;
  data?: unknown;
}

/** One JSON-RPC message, by kind. */
export type JsonRpcMessage =
  | { kind: 'request'; id: RequestId; method: string; params?: unknown }
  | { kind: 'notification'; method: string; params?: unknown }
  | { kind: 'response'; id: RequestId; result: unknown }
  | { kind: 'error'; id: RequestId | null; error: JsonRpcError };

/** Why a parsed value is not a JSON-RPC message. */
export interface NotJsonRpc {
  invalid: string;
}

const isId = (v: unknown): v is RequestId => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function describeType(v: unknown): string {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

/** Classifies one parsed JSON value as a request, notification, response or error, or says why it is none. */
export function classifyMessage(v: unknown): JsonRpcMessage | NotJsonRpc {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { invalid: `not a JSON-RPC message: ${describeType(v)}, not an object` };
  const m = v as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return { invalid: 'not a JSON-RPC message: "jsonrpc" is not "2.0"' };
  const hasId = Object.hasOwn(m, 'id');
  if (Object.hasOwn(m, 'method')) {
    if (typeof m.method !== 'string' || m.method.length === 0) return { invalid: 'not a JSON-RPC message: "method" is not a non-empty string' };
    if (!hasId) return { kind: 'notification', method: m.method, params: m.params };
    if (!isId(m.id)) return { invalid: 'not a JSON-RPC message: request "id" is not a string or number' };
    return { kind: 'request', id: m.id, method: m.method, params: m.params };
  }
  const hasResult = Object.hasOwn(m, 'result');
  const hasError = Object.hasOwn(m, 'error');
  if (hasResult && hasError) return { invalid: 'not a JSON-RPC message: both "result" and "error"' };
  if (hasError) {
    if (m.error === null || typeof m.error !== 'object' || Array.isArray(m.error)) return { invalid: 'not a JSON-RPC message: "error" is not an object' };
    if (m.id !== undefined && m.id !== null && !isId(m.id)) return { invalid: 'not a JSON-RPC message: error "id" is not a string, number or null' };
    return { kind: 'error', id: isId(m.id) ? m.id : null, error: m.error as JsonRpcError };
  }
  if (hasResult) {
    if (!isId(m.id)) return { invalid: 'not a JSON-RPC message: response "id" is not a string or number' };
    return { kind: 'response', id: m.id, result: m.result };
  }
  return { invalid: 'not a JSON-RPC message: no "method", "result" or "error"' };
}

/** Why JSON.parse failed, without the input excerpt V8 quotes in its message: that text is traffic and may hold secrets. */
export function describeJsonError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `invalid JSON: ${message.replace(/,\s(?:\.\.\.)?"[\s\S]*$/, '')}`;
}
