/** Sigma detection semantics: maps, lists, wildcards and escapes, null and empty values, keywords, arrays. */
import { describe, expect, it } from 'vitest';
import { toolCall, toolList, tool, toolResult } from './mcpEvents.js';
import { detects, selectionDetects } from './ruleHarness.js';

const readPasswd = toolCall('read_file', { path: '/etc/passwd', mode: null, empty: '', count: 5, countText: '7', nested: { deep: ['alpha', 'Beta Gamma'] } });

function matchesArgs(selection: string, event = readPasswd): boolean {
  return selectionDetects(selection, event);
}

describe('values', () => {
  it('compares case-insensitively and exactly by default', () => {
    expect(matchesArgs('gen_ai.tool.name: READ_FILE')).toBe(true);
    expect(matchesArgs('gen_ai.tool.name: read_fil')).toBe(false);
    expect(matchesArgs('gen_ai.tool.name: read_files')).toBe(false);
  });

  it('ANDs the entries of a map and ORs the values of a list', () => {
    expect(matchesArgs('gen_ai.tool.name: read_file\ngen_ai.tool.call.arguments.path: /etc/passwd')).toBe(true);
    expect(matchesArgs('gen_ai.tool.name: read_file\ngen_ai.tool.call.arguments.path: /etc/shadow')).toBe(false);
    expect(matchesArgs('gen_ai.tool.name:\n    - write_file\n    - read_file')).toBe(true);
    expect(matchesArgs('gen_ai.tool.name:\n    - write_file\n    - delete_file')).toBe(false);
  });

  it('ORs a list of maps', () => {
    const detection = 'selection:\n    - gen_ai.tool.name: write_file\n    - gen_ai.tool.call.arguments.path: /etc/passwd\ncondition: selection';
    expect(detects({ category: 'tool_call', detection }, readPasswd)).toBe(true);
    expect(detects({ category: 'tool_call', detection }, toolCall('list', { path: '/tmp' }))).toBe(false);
  });

  it('matches numbers and booleans as their string forms', () => {
    expect(matchesArgs('gen_ai.tool.call.arguments.count: 5')).toBe(true);
    expect(matchesArgs("gen_ai.tool.call.arguments.count: '5'")).toBe(true);
    expect(matchesArgs('gen_ai.tool.call.arguments.countText: 7')).toBe(true);
    expect(matchesArgs('gen_ai.tool.call.arguments.count: 6')).toBe(false);
    const failed = toolResult('read_file', { content: [{ type: 'text', text: 'denied' }], isError: true });
    expect(detects({ category: 'tool_result', detection: 'selection:\n    gen_ai.tool.call.result.isError: true\ncondition: selection' }, failed)).toBe(true);
    expect(detects({ category: 'tool_result', detection: 'selection:\n    gen_ai.tool.call.result.isError: false\ncondition: selection' }, failed)).toBe(false);
  });
});

describe('wildcards and escapes', () => {
  it.each([
    ["'/etc/*'", true],
    ["'*passw?'", true],
    ["'/e?c/*wd'", true],
    ["'*/pass*'", true],
    ["'/etc/??sswd'", true],
    ["'*'", true],
    ["'/etc/?'", false],
    ["'*shadow*'", false],
    ["'/etc/passwd?'", false],
    ["'/ETC/*WD'", true],
  ])('%s against /etc/passwd is %s', (pattern, expected) => {
    expect(matchesArgs(`gen_ai.tool.call.arguments.path: ${pattern}`)).toBe(expected);
  });

  it('treats escaped wildcards and backslashes as plain characters', () => {
    const event = toolCall('run', { price: '100*', question: 'why?', windows: 'C:\\Users\\bob', tricky: 'x\\yz' });
    expect(matchesArgs("gen_ai.tool.call.arguments.price: '100\\*'", event)).toBe(true);
    expect(matchesArgs("gen_ai.tool.call.arguments.price: '10\\*'", event)).toBe(false);
    expect(matchesArgs("gen_ai.tool.call.arguments.question: 'why\\?'", event)).toBe(true);
    expect(matchesArgs("gen_ai.tool.call.arguments.question: 'wh\\?'", event)).toBe(false);
    // A single backslash not before a wildcard is a plain backslash; a doubled one is one backslash.
    expect(matchesArgs("gen_ai.tool.call.arguments.windows: 'C:\\Users\\bob'", event)).toBe(true);
    expect(matchesArgs("gen_ai.tool.call.arguments.windows: 'C:\\\\Users\\\\bob'", event)).toBe(true);
    // An escaped backslash before a wildcard: a backslash, then any run.
    expect(matchesArgs("gen_ai.tool.call.arguments.tricky: 'x\\\\*'", event)).toBe(true);
    expect(matchesArgs("gen_ai.tool.call.arguments.windows: 'x\\\\*'", event)).toBe(false);
  });
});

describe('null and empty values', () => {
  it.each([
    // null: the field is missing or null
    ['mode: null', true],
    ['absent: null', true],
    ['path: null', false],
    ['empty: null', false],
    // '': the field is an empty string
    ["empty: ''", true],
    ["absent: ''", false],
    ["mode: ''", false],
    ["path: ''", false],
    // a list may mix null with strings
    ["absent: [null, 'x']", true],
    ["path: [null, '/etc/passwd']", true],
    ["path: [null, 'x']", false],
  ])('arguments.%s → %s', (selection, expected) => {
    expect(matchesArgs(`gen_ai.tool.call.arguments.${selection}`)).toBe(expected);
  });
});

describe('keywords', () => {
  const keywordRule = (lines: string): string => `keywords:\n${lines.replace(/^/gm, '    ')}\ncondition: keywords`;

  it('searches every string value of the event, case-insensitively', () => {
    expect(detects({ category: 'tool_call', detection: keywordRule("- 'ETC/PASS'\n- 'nothing-like-this'") }, readPasswd)).toBe(true);
    expect(detects({ category: 'tool_call', detection: keywordRule("- 'beta gamma'") }, readPasswd)).toBe(true);
    expect(detects({ category: 'tool_call', detection: keywordRule("- 'nothing-like-this'") }, readPasswd)).toBe(false);
  });

  it('does not search object keys or numbers', () => {
    expect(detects({ category: 'tool_call', detection: keywordRule("- 'countText'") }, readPasswd)).toBe(false);
    expect(detects({ category: 'tool_call', detection: keywordRule('- 987654') }, toolCall('x', { n: 987654 }))).toBe(false);
  });

  it("ANDs keywords under '|all' and honours wildcards", () => {
    const all = "keywords:\n    '|all':\n        - 'passwd'\n        - 'alpha'\ncondition: keywords";
    expect(detects({ category: 'tool_call', detection: all }, readPasswd)).toBe(true);
    expect(detects({ category: 'tool_call', detection: all.replace('alpha', 'omega') }, readPasswd)).toBe(false);
    expect(detects({ category: 'tool_call', detection: keywordRule("- '/etc/*wd'") }, readPasswd)).toBe(true);
  });

  it('accepts a single keyword string', () => {
    expect(detects({ category: 'tool_call', detection: "keywords: 'passwd'\ncondition: keywords" }, readPasswd)).toBe(true);
  });
});

describe('field paths', () => {
  it('yields every value when a path crosses an array, and any value matching is a match', () => {
    const listing = toolList([tool('read_file', { description: 'Reads a file' }), tool('exfiltrate', { description: 'Sends data' })]);
    const rule = (value: string): boolean => detects({ category: 'tool_list', detection: `selection:\n    mcp.tools.name: ${value}\ncondition: selection` }, listing);
    expect(rule('exfiltrate')).toBe(true);
    expect(rule('read_file')).toBe(true);
    expect(rule('delete_file')).toBe(false);
  });

  it('reads every scalar under an object field, as Elasticsearch flattened fields do', () => {
    expect(matchesArgs("gen_ai.tool.call.arguments|contains: 'passwd'")).toBe(true);
    expect(matchesArgs("gen_ai.tool.call.arguments.nested: 'alpha'")).toBe(true);
    expect(matchesArgs("gen_ai.tool.call.arguments|contains: 'shadow'")).toBe(false);
  });

  it('finds keys that contain dots', () => {
    const event = toolCall('fetch', { url: 'http://x' });
    const withHeaders = { ...event, http: { request: { headers: { 'x.forwarded.host': 'evil.example' } } } };
    expect(matchesArgs("http.request.headers.x.forwarded.host: 'evil.example'", withHeaders)).toBe(true);
  });
});
