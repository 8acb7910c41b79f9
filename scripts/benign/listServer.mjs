// Asks a connected server for everything it documents about itself: instructions, tools, prompts, resources and
// resource templates, each list only if the capability is advertised, following pagination up to a bound.
const MAX_PAGES = 50;

async function listAll(fetchPage, key) {
  const items = [];
  let cursor;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await fetchPage(cursor === undefined ? {} : { cursor });
    items.push(...(result[key] ?? []));
    cursor = result.nextCursor;
    if (!cursor) return { items, truncated: false };
  }
  return { items, truncated: true };
}

/** Resolves to the listing, or rejects with the first failing request (the caller records it). */
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
  };
  const lists = [
    ['tools', capabilities.tools, (p) => client.listTools(p, options), 'tools'],
    ['prompts', capabilities.prompts, (p) => client.listPrompts(p, options), 'prompts'],
    ['resources', capabilities.resources, (p) => client.listResources(p, options), 'resources'],
    ['resourceTemplates', capabilities.resources, (p) => client.listResourceTemplates(p, options), 'resourceTemplates'],
  ];
  for (const [name, advertised, fetchPage, key] of lists) {
    if (!advertised) continue;
    try {
      const { items, truncated } = await listAll(fetchPage, key);
      listing[name] = items;
      if (truncated) listing.truncated.push(name);
    } catch (error) {
      // A server may advertise resources but not implement templates (method not found): that is not a failure
      // of the whole listing, only of that list.
      if (name === 'resourceTemplates' && /-32601|not found/i.test(String(error.message))) continue;
      throw new Error(`${key}/list failed: ${error.message}`);
    }
  }
  return listing;
}
