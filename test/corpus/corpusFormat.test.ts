/** The corpus file format: each bad item is reported as FILE:LINE and skipped, and items become the transcript records the normalizer reads. */
import { describe, expect, it } from 'vitest';
import { corpusTranscript, parseCorpusFile } from '../../cli/ruleTesting/corpusItems.js';
import { transcriptEvents } from '../../cli/ruleTesting/transcriptEvents.js';

describe('parseCorpusFile', () => {
  it('keeps good items and names the file, line and key of each bad one', () => {
    const text = [
      'label: malicious',
      'items:',
      '  - {id: ok, category: ssrf, server: fetch, call: {name: fetch, arguments: {url: "http://169.254.169.254/"}}}',
      '  - {id: no-category, server: fetch, call: {name: fetch, arguments: {}}}',
      '  - {id: two-payloads, category: ssrf, server: s, call: {name: a}, result: {name: a}}',
      '  - {id: bad-category, category: spying, server: s, call: {name: a}}',
      '  - {id: list-expected, category: ssrf, server: s, tools: {name: a}}',
      '  - {id: extra, category: ssrf, server: s, colour: red, call: {name: a}}',
    ].join('\n');
    const { items, errors } = parseCorpusFile('c.yml', text);
    expect(items.map((i) => i.id)).toEqual(['ok']);
    expect(errors.map((e) => e.message)).toEqual([
      "c.yml:4: corpus item: 'category' is required",
      "c.yml:5: corpus item 'two-payloads': needs exactly one of tools, initialize, prompts, resources, call, result, resource, prompt, sampling, elicitation (found 2)",
      expect.stringMatching(/^c\.yml:6: corpus item 'bad-category': category 'spying' is not one of tool_poisoning, /),
      "c.yml:7: corpus item 'list-expected': tools must be a list (tools/list result tools (MCP Tool objects))",
      "c.yml:8: corpus item: unknown key 'colour'",
    ]);
  });

  it('rejects a file without a label', () => {
    expect(parseCorpusFile('c.yml', 'items: []\n').errors.map((e) => e.message)).toEqual(["c.yml:1: label must be 'malicious' or 'benign'"]);
  });

  it('turns a result item into the tools/call request and its response, correlated by the normalizer', () => {
    const { items } = parseCorpusFile('c.yml', 'label: benign\nitems:\n  - {id: r, server: fetch, result: {name: fetch, arguments: {url: "https://x.example"}, result: {content: [{type: text, text: hi}]}}}\n');
    const events = transcriptEvents('c.yml', corpusTranscript(items[0]!));
    expect(events.map((e) => `${e.event.action}/${e.mcp.message?.kind}/${e.gen_ai?.tool?.name}`)).toEqual(['tools/call/request/fetch', 'tools/call/response/fetch']);
    expect(events[1]?.gen_ai?.tool?.call?.result).toEqual({ content: [{ type: 'text', text: 'hi' }] });
  });
});
