// Extracts the text a client would hand to the model from MCP responses (tools/call, resources/read,
// prompts/get), one piece per content item, so each piece becomes one returned-content record.

/** Pieces of a CallToolResult: text items, embedded text resources, else the structured content as JSON. */
export function toolResultTexts(result) {
  const pieces = [];
  for (const item of result?.content ?? []) {
    if (item.type === 'text' && typeof item.text === 'string') pieces.push({ contentType: 'text', text: item.text });
    else if (item.type === 'resource' && typeof item.resource?.text === 'string') {
      pieces.push({ contentType: 'resource', text: item.resource.text });
    }
  }
  if (pieces.length === 0 && result?.structuredContent !== undefined) {
    pieces.push({ contentType: 'structured', text: JSON.stringify(result.structuredContent, null, 2) });
  }
  return pieces;
}

export function resourceTexts(result) {
  return (result?.contents ?? [])
    .filter((c) => typeof c.text === 'string')
    .map((c) => ({ contentType: 'resource', text: c.text }));
}

export function promptTexts(result) {
  return (result?.messages ?? [])
    .filter((m) => m.content?.type === 'text' && typeof m.content.text === 'string')
    .map((m) => ({ contentType: `prompt:${m.role}`, text: m.content.text }));
}
