/**
 * The exporter's first-occurrence rewrite of a key shape (`AIza[0-9A-Za-z_-]{35}`: a literal whose characters all
 * belong to the gap's class, luceneRegex.ts firstInRunExpression) proven on a real Elasticsearch: texts built around
 * the edges of its proof (decoy `AIza`s inside the run, a run cut one character short, a run broken by a character
 * outside the class, keys at either end, overlapping prefixes) are indexed as keyword values, every expression runs
 * as Kibana runs a Lucene rule (query_string), and the hits must be exactly the texts RE2 finds the key in. The
 * rule's own tests only carry placeholders (the collector redacts raw keys), so this is where raw keys are checked.
 */
import { Client } from '@elastic/elasticsearch';
import { RE2JS } from 're2js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luceneRegexesOfRe2 } from '../../detectors/sigma/luceneRegex.js';
import { INDEX_MAX_REGEX_LENGTH } from '../../pipeline/elasticsearch/esMappings.js';
import { realElasticsearchUrl, SKIPPED_WITHOUT_ENGINES } from '../support/realEngines.js';

const url = realElasticsearchUrl('firstInRunRegexOnCluster.test.ts');
const index = `tapwire-first-in-run-${process.pid}`;
const PATTERN = 'AIza[0-9A-Za-z_-]{35}';

/** Texts at the edges of the rewrite's proof, then pseudo-random mixtures of the same pieces (fixed seed). */
function texts(): string[] {
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
  const pieces = ['AIza', 'AIz', 'A', body(12), body(35), '-', '_', ' ', '.', '\n', 'zz'];
  let seed = 11;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const mixed = Array.from({ length: 150 }, () => Array.from({ length: 2 + Math.floor(next() * 6) }, () => pieces[Math.floor(next() * pieces.length)]).join(''));
  return [...new Set([...fixed, ...mixed])];
}

describe.skipIf(!url)(`the first-occurrence rewrite on a real cluster${url ? '' : ` (${SKIPPED_WITHOUT_ENGINES})`}`, () => {
  const es = new Client({ node: url ?? 'http://127.0.0.1:9' });
  const corpus = texts();

  beforeAll(async () => {
    await es.indices.create({ index, settings: { number_of_replicas: 0, 'index.max_regex_length': INDEX_MAX_REGEX_LENGTH }, mappings: { properties: { v: { type: 'keyword', ignore_above: 8191 } } } });
    await es.bulk({ index, refresh: true, operations: corpus.flatMap((v, i) => [{ index: { _id: String(i) } }, { v }]) });
  });
  afterAll(async () => {
    await es.indices.delete({ index, ignore_unavailable: true });
    await es.close();
  });

  it(`${PATTERN}: the exported expressions hit exactly the texts RE2 finds it in`, async () => {
    const expressions = luceneRegexesOfRe2(PATTERN, { caseInsensitive: false, multiLine: false, dotAll: false });
    expect(expressions.some((e) => e.includes('&~('))).toBe(true);
    const query = expressions.map((e) => `v:/${e}/`).join(' OR ');
    const response = await es.search<{ v: string }>({ index, size: corpus.length, query: { query_string: { query } } });
    const hits = new Set(response.hits.hits.map((hit) => hit._source?.v));
    const re2 = RE2JS.compile(PATTERN);
    const expected = corpus.filter((text) => re2.test(text));
    expect(expected.length).toBeGreaterThan(10);
    expect(corpus.filter((text) => hits.has(text)).sort()).toEqual(expected.sort());
  });
});
