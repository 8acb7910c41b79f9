// Asks a connected server for everything it documents about itself: instructions, tools, prompts, resources and
// resource templates, each list only if the capability is advertised, following pagination up to a bound.
// Pages are read as sent: a server whose schemas the SDK's strict result types reject (e.g. an inputSchema
// without "type": "object") still documents its tools in real words, so the text is kept and the
// non-conformance reported.
import {
  ListPromptsResultSchema, ListResourcesResultSchema, ListResourceTemplatesResultSchema, ListToolsResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const MAX_PAGES = 50;
const asSent = z.looseObject({});

async function listAll(client, method, key, strictSchema, options) {
  const items = [];
  let conforming = true;
  let cursor;
  for (let page = 0; page < MAX_PAGES; page++) {
    const params = cursor === undefined ? {} : { cursor };
    const result = await client.request({ method, params }, asSent, options);
    if (!strictSchema.safeParse(result).success) conforming = false;
    items.push(...(Array.isArray(result[key]) ? result[key] : []));
    cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
    if (!cursor) return { items, truncated: false, conforming };
  }
  return { items, truncated: true, conforming };
}

/** Resolves to the listing (with per-list errors), or rejects when nothing at all could be listed. */
export async function listServer(client, requestTimeoutMs) {
  const options = { timeout: requestTimeoutMs };
  const capabilities = client.getServerCapabilities() ?? {};
  const listing = {
    serverInfo: client.getServerVersion() ?? null,
    capabilities,
    instructions: client.getInstructions() ?? null,
    tools: [],
    prompts: [],
    resources: [],
    resourceTemplates: [],
    truncated: [],
    nonConforming: [],
    errors: {},
  };
  const lists = [
    ['tools', capabilities.tools, 'tools/list', ListToolsResultSchema],
    ['prompts', capabilities.prompts, 'prompts/list', ListPromptsResultSchema],
    ['resources', capabilities.resources, 'resources/list', ListResourcesResultSchema],
    ['resourceTemplates', capabilities.resources, 'resources/templates/list', ListResourceTemplatesResultSchema],
  ];
  for (const [name, advertised, method, strictSchema] of lists) {
    if (!advertised) continue;
    try {
      const { items, truncated, conforming } = await listAll(client, method, name, strictSchema, options);
      listing[name] = items.filter((item) => item !== null && typeof item === 'object');
      if (truncated) listing.truncated.push(name);
      if (!conforming) listing.nonConforming.push(name);
    } catch (error) {
      // One failing list (e.g. resources of a database server with no database behind it) must not lose the
      // others; the caller reports it. A server that advertises resources without templates is not an error.
      if (name === 'resourceTemplates' && /-32601|not found/i.test(String(error.message))) continue;
      listing.errors[name] = `${method} failed: ${error.message}`;
    }
  }
  const wanted = lists.filter(([, advertised]) => advertised).map(([name]) => name);
  if (wanted.length > 0 && wanted.every((name) => listing.errors[name])) {
    throw new Error(`every list failed: ${wanted.map((name) => `${name}: ${listing.errors[name]}`).join('; ')}`);
  }
  return listing;
}
