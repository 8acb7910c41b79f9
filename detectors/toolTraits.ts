/**
 * What a tool does, as far as a detector can tell: the behaviour hints its server declared in tools/list
 * (readOnlyHint, destructiveHint, openWorldHint), and the verbs in its name. Hints come from the server,
 * which may lie; names come from the server too, but a tool named delete_* that claims to be read-only
 * is still treated as destructive, because the name is what the model acts on.
 */
import type { Tool } from '../pipeline/types/mcpEvent.js';

/** The declared hints of a tool (absent when the server did not say). */
export interface ToolHints {
  readOnly?: boolean;
  destructive?: boolean;
  openWorld?: boolean;
}

const DESTRUCTIVE_VERBS = new Set([
  'write', 'overwrite', 'delete', 'del', 'remove', 'rm', 'rmdir', 'drop', 'truncate', 'purge', 'destroy', 'wipe', 'erase', 'clear',
  'exec', 'execute', 'run', 'shell', 'bash', 'sh', 'command', 'cmd', 'eval', 'spawn', 'kill', 'terminate',
  'move', 'mv', 'rename', 'chmod', 'chown', 'format', 'reset', 'revoke', 'transfer', 'deploy', 'uninstall',
]);

/** Verbs that put data somewhere another party can read it, or change state: where exfiltration lands. */
const SINK_VERBS = new Set([
  'send', 'post', 'create', 'write', 'upload', 'put', 'publish', 'share', 'email', 'mail', 'message', 'submit', 'push', 'commit',
  'update', 'insert', 'add', 'save', 'set', 'forward', 'reply', 'comment', 'tweet', 'notify', 'webhook', 'request', 'fetch', 'http',
  'append', 'store', 'upsert', 'transfer', 'pay', 'invite', 'exec', 'execute', 'run',
]);

/** Verbs that read data out of a store the user owns. */
const READ_VERBS = new Set([
  'read', 'get', 'list', 'show', 'view', 'cat', 'open', 'load', 'query', 'search', 'find', 'export', 'dump', 'retrieve', 'lookup',
]);

/** The lower-case words of a tool name: `readNote`, `read_note`, `read-note`, `notes.read` → read, note(s). */
export function toolNameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase());
}

/** The hints a tools/list entry declares. */
export function hintsOf(tool: Pick<Tool, 'annotations'>): ToolHints {
  const annotations = (tool.annotations ?? {}) as Record<string, unknown>;
  const hints: ToolHints = {};
  if (typeof annotations.readOnlyHint === 'boolean') hints.readOnly = annotations.readOnlyHint;
  if (typeof annotations.destructiveHint === 'boolean') hints.destructive = annotations.destructiveHint;
  if (typeof annotations.openWorldHint === 'boolean') hints.openWorld = annotations.openWorldHint;
  return hints;
}

/** Why a tool counts as destructive ('annotation' or 'name'), or undefined when it does not. */
export function destructiveReason(name: string, hints: ToolHints = {}): 'annotation' | 'name' | undefined {
  if (hints.destructive === true) return 'annotation';
  return toolNameWords(name).some((word) => DESTRUCTIVE_VERBS.has(word)) ? 'name' : undefined;
}

/** Whether a call to the tool can carry data out or change state: open world, destructive, or a send/write-like name. */
export function isSensitiveSink(name: string, hints: ToolHints = {}): boolean {
  if (hints.openWorld === true || hints.destructive === true) return true;
  if (hints.readOnly === true) return false;
  return toolNameWords(name).some((word) => SINK_VERBS.has(word));
}

/** Whether the tool reads the user's own data: read-like and not declared open world (the web is not private). */
export function readsPrivateData(name: string, hints: ToolHints = {}): boolean {
  if (hints.openWorld === true) return false;
  return hints.readOnly === true || toolNameWords(name).some((word) => READ_VERBS.has(word));
}
