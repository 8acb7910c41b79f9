/** Rule texts for the lint tests: a rule with every field a shipped rule needs, patchable line by line. */

/** A rule with every required field; `patch` replaces lines by key (null removes the line), `detection` the block. */
export function completeRule(patch: Record<string, string | null> = {}, detection = ['    sel:', '        gen_ai.tool.name: read_file', '    condition: sel']): string {
  const lines: [string, string][] = [
    ['title', 'title: Reads a file'],
    ['id', 'id: 6b1e4f6a-3c2d-4b5e-9f8a-7d6c5b4a3e2f'],
    ['status', 'status: experimental'],
    ['description', 'description: A tool call reads a file.'],
    ['references', 'references: [https://example.com/read]'],
    ['author', 'author: Tapwire'],
    ['date', 'date: 2025-06-01'],
    ['tags', 'tags: [tapwire.category.anomalous_tool_use, atlas.aml.t0053]'],
    ['logsource', 'logsource: {product: mcp, category: tool_call}'],
    ['falsepositives', 'falsepositives: [Editors reading files]'],
    ['level', 'level: low'],
  ];
  const kept = lines.flatMap(([key, line]) => (key in patch ? (patch[key] === null ? [] : [patch[key] as string]) : [line]));
  return [...kept, 'detection:', ...detection, ''].join('\n');
}
