/**
 * What drift detection pins: the model-visible definitions a server presents (tools, prompts, resources, its
 * instructions), read from one event as a listing. Tools keep the collector's canonical hash; the others are hashed
 * here the same way, so a definition changes exactly when its hash does.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../pipeline/toolHash.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

export type PinKind = 'tool' | 'prompt' | 'resource' | 'instructions';

/** One definition as pinned and compared. */
export interface PinnedDefinition {
  kind: PinKind;
  /** Tool or prompt name, resource URI or URI template; 'instructions' for the server's instructions. */
  name: string;
  hash: string;
  /** The text the model reads: the description, or the instructions. */
  text: string;
  /** The rest of the definition (schemas, annotations, title, arguments), for diffs. */
  shape?: Record<string, unknown>;
}

/** The definitions of one kind that one event presents. */
export interface Listing {
  kind: PinKind;
  items: PinnedDefinition[];
  /** More pages follow (nextCursor). */
  more: boolean;
  /** The collector cut the list or its items: absence from it proves nothing. */
  truncated: boolean;
}

/** The state key of a definition: kind and name. */
export function pinKey(kind: PinKind, name: string): string {
  return `${kind}:${name}`;
}

function hashOf(kind: PinKind, text: string, shape: Record<string, unknown> | undefined): string {
  return createHash('sha256').update(canonicalJson({ kind, text, shape })).digest('hex');
}

function defined(fields: Record<string, unknown>): Record<string, unknown> | undefined {
  const kept = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return Object.keys(kept).length > 0 ? kept : undefined;
}

function definition(kind: PinKind, name: string, text: string | undefined, shape: Record<string, unknown> | undefined, hash?: string): PinnedDefinition {
  const body = text ?? '';
  const item: PinnedDefinition = { kind, name, hash: hash ?? hashOf(kind, body, shape), text: body };
  if (shape) item.shape = shape;
  return item;
}

const LISTING_METHODS: Record<string, PinKind> = {
  'tools/list': 'tool',
  'prompts/list': 'prompt',
  'resources/list': 'resource',
  'resources/templates/list': 'resource',
  initialize: 'instructions',
  'server/discover': 'instructions',
};

/** The listing a server's response presents (tools/list, prompts/list, resources lists, initialize), if any. */
export function listingOf(event: McpEvent): Listing | undefined {
  const mcp = event.mcp;
  if (mcp.direction !== 'server_to_client' || mcp.message?.kind !== 'response') return undefined;
  const kind = LISTING_METHODS[mcp.method?.name ?? ''];
  if (kind === undefined) return undefined;
  const more = typeof mcp.result?.nextCursor === 'string';
  const truncated = mcp.message.truncated === true;
  const listing = (items: PinnedDefinition[]): Listing => ({ kind, items, more, truncated });
  switch (kind) {
    case 'tool':
      return listing(
        (mcp.tools ?? []).map((t) =>
          definition('tool', t.name, t.description, defined({ title: t.title, inputSchema: t.input_schema, outputSchema: t.output_schema, annotations: t.annotations }), t.hash),
        ),
      );
    case 'prompt':
      return listing((mcp.prompts ?? []).map((p) => definition('prompt', p.name, p.description, defined({ title: p.title, arguments: p.arguments }))));
    case 'resource':
      return listing(
        (mcp.resources ?? [])
          .filter((r) => (r.uri ?? r.uri_template) !== undefined)
          .map((r) => definition('resource', (r.uri ?? r.uri_template) as string, r.description, defined({ name: r.name, title: r.title, mimeType: r.mime_type }))),
      );
    case 'instructions':
      return { kind, items: [definition('instructions', 'instructions', mcp.instructions, undefined)], more: false, truncated };
  }
}
