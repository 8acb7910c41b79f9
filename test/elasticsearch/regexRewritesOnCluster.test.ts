/**
 * The exporter's two exact rewrites of bounded gaps (luceneRegex.ts), proven on a real Elasticsearch against RE2:
 *
 * - first occurrence in a run (`AIza[0-9A-Za-z_-]{35}`: a literal whose characters all belong to the gap's class,
 *   firstInRunExpression), with texts at the edges of its proof: decoy `AIza`s inside the run, a run cut one
 *   character short, a run broken by a character outside the class, keys at either end, overlapping prefixes;
 * - last start before the gap (`\p{Latin}[^\s]{0,60}\p{Cyrillic}`: the gap searched without the start's characters,
 *   withLastStartGaps), with gaps of 60 and 61 characters, several starts, and starts inside the gap;
 * - the split at choices (splitExpressions: one expression per option of an optional part or an alternation), on two
 *   shipped URL patterns, with user info, label lengths and label counts at their bounds.
 *
 * Texts are indexed as keyword values, every expression runs as Kibana runs a Lucene rule (query_string), and the
 * hits must be exactly the texts RE2 finds the pattern in. The rules' own tests carry redaction placeholders rather
 * than raw keys, so this is where raw keys are checked.
 */
import { Client } from '@elastic/elasticsearch';
import { RE2JS } from 're2js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luceneRegexesOfRe2 } from '../../detectors/sigma/luceneRegex.js';
import { INDEX_MAX_REGEX_LENGTH } from '../../pipeline/elasticsearch/esMappings.js';
import { realElasticsearchUrl, SKIPPED_WITHOUT_ENGINES } from '../support/realEngines.js';

const url = realElasticsearchUrl('regexRewritesOnCluster.test.ts');
const index = `tapwire-regex-rewrites-${process.pid}`;

/** Seeded mixtures of `pieces` (a fixed-seed linear congruential generator: the same texts every run). */
function mixtures(pieces: readonly string[], count: number, seed: number): string[] {
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, () => Array.from({ length: 2 + Math.floor(next() * 6) }, () => pieces[Math.floor(next() * pieces.length)]).join(''));
}

/** The key shape: texts at the edges of the first-in-run proof, then seeded mixtures of the same pieces. */
function keyTexts(): string[] {
  const body = (n: number) => 'Sy_3x-9Kq7Lm2Np4Rt6Vw8Yz0Ac1Ee3Gg5Ii7KpQ'.slice(0, n);
  const fixed = [
    `AIza${body(35)}`,
    `AIza${body(34)}`,
    `key=AIza${body(35)};`,
    `AIzaAIza${body(31)}`, // the second AIza has 31 after it; the first 35
    `AIzaAIza${body(30)}`, // 34 after the first: no match anywhere
    `xAIza${body(35)}`, // the run starts before the key
    `AIz AIza${body(35)}`,
    `AIza${body(20)} ${body(20)}`,
    `AIza${body(20)}\nAIza${body(35)}`,
    `AIAIza${body(35)}`,
    `aiza${body(35)}`,
    `${body(10)}AIza${body(10)}AIza${body(35)}`,
    '',
  ];
  return [...fixed, ...mixtures(['AIza', 'AIz', 'A', body(12), body(35), '-', '_', ' ', '.', '\n', 'zz'], 150, 11)];
}

/** The script-mixing shape: gaps of 60 and 61, several Latin starts, Cyrillic and Greek ends, spaces breaking runs. */
function scriptTexts(): string[] {
  const gap = (n: number) => '1'.repeat(n);
  const fixed = [`a${gap(60)}\u0430`, `a${gap(61)}\u0430`, `a${gap(40)}b${gap(30)}\u0430`, `a${gap(30)} ${gap(5)}\u0430`, `pay\u0440al`, '\u0430bc', 'abc', `\u03bf${gap(60)}x`, `\u03bf${gap(61)}x`];
  return [...fixed, ...mixtures(['a', 'pay', '\u0430', '\u03bf', ' ', gap(30), gap(25), '-', 'Z', '\u0416'], 150, 7)];
}

/**
 * URL shapes for the split at choices (splitExpressions): user info of 200 and 201 characters or none, `@` in the
 * wrong place, labels of 63 and 64 characters, 10 and 11 labels, the hosts' words whole, cut, in another case or
 * inside a label, and what may follow them.
 */
function urlTexts(): string[] {
  const label = (n: number) => 'a'.repeat(n);
  const labels = (n: number) => 'b.'.repeat(n);
  const fixed = [
    `https://${label(63)}.xn--pple`,
    `https://${label(64)}.xn--pple`,
    `https://${'u'.repeat(200)}@xn--pple.com`,
    `https://${'u'.repeat(201)}@xn--pple.com`,
    `https://${labels(10)}xn--a`,
    `https://${labels(11)}xn--a`,
    'https://u@v@xn--a',
    'https://a.ngrok.io/x',
    'https://a.ngrok.io',
    'https://a.ngrok.iox',
    `https://${labels(10)}webhook.site#`,
    `https://${labels(11)}webhook.site#`,
    'https://WEBHOOK.SITE',
    'https://awebhook.site',
  ];
  const pieces = ['https://', 'http://', 'ftp://', 'u:p@', '@', `${label(63)}.`, 'b.', 'xn--', 'XN--', 'x', '.', '/', ':', '#', 'ngrok.io', 'NGROK.IO', 'webhook.site', 'pastebin.com', 'glitch.me', '-'];
  return [...fixed, ...mixtures(pieces, 200, 5).map((text, i) => (i % 3 === 0 ? text : `https://${text}`))];
}

/** The host words of elicitation_url_to_untrusted_host, after labels of bounded length and number. */
const UNTRUSTED_HOSTS = '(?:ngrok\\.io|ngrok-free\\.app|ngrok\\.app|trycloudflare\\.com|serveo\\.net|loca\\.lt|localtunnel\\.me|pastebin\\.com|webhook\\.site|pipedream\\.net|requestbin\\.com|glitch\\.me|repl\\.co|workers\\.dev|000webhostapp\\.com)';

// `rewrite`: what the first-in-run form writes (the last-start form only narrows a class, seen in no shape of its own);
// `split`: the pattern is searched as more expressions than its assertions give (splitExpressions); `i`: case-insensitive.
const CASES: { pattern: string; texts: string[]; rewrite?: RegExp; split?: number; i?: boolean }[] = [
  { pattern: 'AIza[0-9A-Za-z_-]{35}', texts: keyTexts(), rewrite: /&~\(/ },
  // The gap after \p{Latin} leaves Latin out (and the one after the other scripts leaves them out).
  { pattern: '\\p{Latin}[^\\s]{0,60}[\\p{Cyrillic}\\p{Greek}]|[\\p{Cyrillic}\\p{Greek}][^\\s]{0,60}\\p{Latin}', texts: scriptTexts() },
  // Without the optional user info, then with it (confusable_server_names); then per host word (elicitation_url_to_untrusted_host).
  { pattern: '^[a-z][a-z0-9+.-]{1,15}://(?:[^/?#@]{0,200}@)?(?:[a-z0-9-]{1,63}\\.){0,10}xn--', texts: urlTexts(), split: 1, i: true },
  { pattern: `^https?://(?:[a-z0-9-]{1,63}\\.){0,10}${UNTRUSTED_HOSTS}(?:[:/?#]|$)`, texts: urlTexts(), split: 2, i: true },
];

describe.skipIf(!url)(`the exporter's gap rewrites and splits on a real cluster${url ? '' : ` (${SKIPPED_WITHOUT_ENGINES})`}`, () => {
  const es = new Client({ node: url ?? 'http://127.0.0.1:9' });
  const corpus = [...new Set(CASES.flatMap((c) => c.texts))];

  beforeAll(async () => {
    await es.indices.create({ index, settings: { number_of_replicas: 0, 'index.max_regex_length': INDEX_MAX_REGEX_LENGTH }, mappings: { properties: { v: { type: 'keyword', ignore_above: 8191 } } } });
    await es.bulk({ index, refresh: true, operations: corpus.flatMap((v, i) => [{ index: { _id: String(i) } }, { v }]) });
  });
  afterAll(async () => {
    await es.indices.delete({ index, ignore_unavailable: true });
    await es.close();
  });

  for (const { pattern, texts, rewrite, split, i } of CASES) {
    it(`${pattern}: the exported expressions hit exactly the texts RE2 finds it in`, async () => {
      const expressions = luceneRegexesOfRe2(pattern, { caseInsensitive: i === true, multiLine: false, dotAll: false });
      if (rewrite) expect(expressions.some((e) => rewrite.test(e))).toBe(true);
      if (split !== undefined) expect(expressions.length).toBeGreaterThan(split);
      const query = expressions.map((e) => `v:/${e}/`).join(' OR ');
      const response = await es.search<{ v: string }>({ index, size: corpus.length, query: { query_string: { query } } });
      const hits = new Set(response.hits.hits.map((hit) => hit._source?.v));
      const re2 = RE2JS.compile(pattern, i ? RE2JS.CASE_INSENSITIVE : 0);
      const expected = texts.filter((text) => re2.test(text));
      expect(expected.length).toBeGreaterThan(10);
      expect(texts.length - expected.length).toBeGreaterThan(10);
      expect(texts.filter((text) => hits.has(text)).sort()).toEqual(expected.sort());
    });
  }
});
