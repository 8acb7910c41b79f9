/**
 * Rewrites the server entries of one host config file so their traffic passes through Tapwire: a stdio server's
 * command becomes `tapwire tap --name <key> -- <command> <args…>`, a remote server's URL becomes its route on the
 * local `tapwire proxy`. Edits go through jsonc-parser's modify/applyEdits, which change only the edited values and
 * keep every comment, trailing comma and the file's indentation elsewhere; env, cwd, headers and every other field
 * are never touched.
 */
import { applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, printParseErrorCode, type FormattingOptions, type Node, type ParseError } from 'jsonc-parser';
import type { HostConfigFile, ServerMapLocation } from './hostLocations.js';

/** How to write the wrapped command line. */
export interface WrapOptions {
  /** The tapwire executable the host runs (default "tapwire", found on the host's PATH). */
  tapwireCommand: string;
  /** --home for the taps, when not the default. */
  home?: string;
  /** The proxy's base URL, e.g. http://127.0.0.1:8787 (no trailing slash). */
  proxyBase: string;
  /** The path prefix of the proxy route for a remote server (allocates one when new). */
  routeFor(name: string, upstream: string): string;
}

/** What happened to one server entry. */
export interface ServerChange {
  scope: ServerMapLocation['scope'];
  name: string;
  kind: 'stdio' | 'remote' | 'unknown';
  action: 'wrapped' | 'routed' | 'already wrapped' | 'already routed' | 'unwrapped' | 'unrouted' | 'skipped';
  disabled: boolean;
  note?: string;
  /** A routed server's URL before and after. */
  url?: { from: string; to: string };
}

/** A config file whose text could not be parsed: FILE:LINE:COLUMN and what is wrong. */
export class ConfigParseError extends Error {}

interface ServerEntry {
  scope: ServerMapLocation['scope'];
  path: (string | number)[];
  name: string;
  value: Record<string, unknown>;
}

/** The file's own indentation and line ends, so inserted values look like their neighbours. */
export function formattingOf(text: string): FormattingOptions {
  const indented = /^([ \t]+)\S/m.exec(text)?.[1] ?? '  ';
  return { insertSpaces: !indented.startsWith('\t'), tabSize: indented.startsWith('\t') ? 1 : indented.length, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

/** Parses JSON with comments and trailing commas; a mistake throws FILE:LINE:COLUMN. */
export function parseConfig(file: string, text: string): Node | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  const first = errors[0];
  if (first) throw new ConfigParseError(`${file}:${lineAndColumn(text, first.offset)}: ${printParseErrorCode(first.error)} (the file was left unchanged)`);
  if (root !== undefined && root.type !== 'object') throw new ConfigParseError(`${file}:1:1: expected a JSON object at the top (the file was left unchanged)`);
  return root;
}

function entries(config: HostConfigFile, root: Node | undefined): ServerEntry[] {
  const found: ServerEntry[] = [];
  if (!root) return found;
  for (const map of config.maps) {
    const node = findNodeAtLocation(root, map.path);
    if (node?.type !== 'object') continue;
    for (const property of node.children ?? []) {
      const [keyNode, valueNode] = property.children ?? [];
      if (!keyNode || valueNode?.type !== 'object') continue;
      const name = String(keyNode.value);
      found.push({ scope: map.scope, path: [...map.path, name], name, value: getNodeValue(valueNode) as Record<string, unknown> });
    }
  }
  return found;
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

/** Whether a stdio entry already runs behind `tapwire tap … --`. */
export function isWrapped(entry: Record<string, unknown>, tapwireCommand: string): boolean {
  const command = typeof entry.command === 'string' ? entry.command : '';
  const base = command.split(/[\\/]/).pop()!.replace(/\.(cmd|exe)$/i, '');
  const args = stringArray(entry.args) ?? [];
  return (command === tapwireCommand || base === 'tapwire') && args[0] === 'tap' && args.includes('--');
}

function disabledOf(entry: Record<string, unknown>): boolean {
  return entry.disabled === true || entry.enabled === false;
}

function urlFieldOf(entry: Record<string, unknown>, config: HostConfigFile): string | undefined {
  return config.format.urlFields.find((field) => typeof entry[field] === 'string');
}

/** The tap's argv for a server: tap --name KEY [--home H] -- COMMAND ARGS… */
export function tapArgs(name: string, command: string, args: readonly string[], home: string | undefined): string[] {
  return ['tap', '--name', name, ...(home === undefined ? [] : ['--home', home]), '--', command, ...args];
}

/** Applies one value edit; a value written on one line stays on one line, as its neighbours are. */
function edit(text: string, path: (string | number)[], value: unknown, formatting: FormattingOptions): string {
  const node = findNodeAtLocation(parseTree(text, [], { allowTrailingComma: true })!, path);
  if (node && !text.slice(node.offset, node.offset + node.length).includes('\n')) {
    const inline = Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(', ')}]` : JSON.stringify(value);
    return applyEdits(text, [{ offset: node.offset, length: node.length, content: inline }]);
  }
  return applyEdits(text, modify(text, path, value, { formattingOptions: formatting }));
}

/** Wraps every stdio server and routes every remote one; returns the new text and what changed. */
export function wrapServers(config: HostConfigFile, text: string, options: WrapOptions): { text: string; changes: ServerChange[] } {
  const root = parseConfig(config.file, text);
  const formatting = formattingOf(text);
  const changes: ServerChange[] = [];
  let out = text;
  for (const entry of entries(config, root)) {
    const disabled = disabledOf(entry.value);
    const base = { scope: entry.scope, name: entry.name, disabled };
    const command = entry.value.command;
    const urlField = urlFieldOf(entry.value, config);
    if (typeof command === 'string') {
      if (isWrapped(entry.value, options.tapwireCommand)) {
        changes.push({ ...base, kind: 'stdio', action: 'already wrapped' });
        continue;
      }
      const args = stringArray(entry.value.args);
      if (entry.value.args !== undefined && args === undefined) {
        changes.push({ ...base, kind: 'stdio', action: 'skipped', note: 'args is not a list of strings' });
        continue;
      }
      out = edit(out, [...entry.path, 'args'], tapArgs(entry.name, command, args ?? [], options.home), formatting);
      out = edit(out, [...entry.path, 'command'], options.tapwireCommand, formatting);
      changes.push({ ...base, kind: 'stdio', action: 'wrapped' });
    } else if (urlField !== undefined) {
      const url = entry.value[urlField] as string;
      if (url.startsWith(`${options.proxyBase}/`)) {
        changes.push({ ...base, kind: 'remote', action: 'already routed' });
        continue;
      }
      let upstream: URL;
      try {
        upstream = new URL(url);
      } catch {
        changes.push({ ...base, kind: 'remote', action: 'skipped', note: `${urlField} is not a URL (a variable?)` });
        continue;
      }
      if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') {
        changes.push({ ...base, kind: 'remote', action: 'skipped', note: `${upstream.protocol} URLs cannot go through the proxy` });
        continue;
      }
      const proxied = `${options.proxyBase}${options.routeFor(entry.name, url)}${upstream.pathname}${upstream.search}`;
      out = edit(out, [...entry.path, urlField], proxied, formatting);
      changes.push({ ...base, kind: 'remote', action: 'routed', url: { from: url, to: proxied } });
    } else {
      changes.push({ ...base, kind: 'unknown', action: 'skipped', note: 'neither a command nor a URL' });
    }
  }
  return { text: out, changes };
}

/**
 * Undoes wrapServers on a file that was edited since the install (so its backup cannot be restored byte for byte):
 * unwraps each wrapped stdio server and points each routed remote server back at its upstream (`upstreamOf` maps a
 * proxied URL to the original one).
 */
export function unwrapServers(config: HostConfigFile, text: string, options: { tapwireCommand: string; upstreamOf(url: string): string | undefined }): { text: string; changes: ServerChange[] } {
  const root = parseConfig(config.file, text);
  const formatting = formattingOf(text);
  const changes: ServerChange[] = [];
  let out = text;
  for (const entry of entries(config, root)) {
    const base = { scope: entry.scope, name: entry.name, disabled: disabledOf(entry.value) };
    const urlField = urlFieldOf(entry.value, config);
    if (isWrapped(entry.value, options.tapwireCommand)) {
      const args = stringArray(entry.value.args)!;
      const [command, ...rest] = args.slice(args.indexOf('--') + 1);
      if (command === undefined) continue;
      out = edit(out, [...entry.path, 'command'], command, formatting);
      out = edit(out, [...entry.path, 'args'], rest, formatting);
      changes.push({ ...base, kind: 'stdio', action: 'unwrapped' });
    } else if (urlField !== undefined) {
      const upstream = options.upstreamOf(entry.value[urlField] as string);
      if (upstream === undefined) continue;
      out = edit(out, [...entry.path, urlField], upstream, formatting);
      changes.push({ ...base, kind: 'remote', action: 'unrouted' });
    }
  }
  return { text: out, changes };
}
