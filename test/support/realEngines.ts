/**
 * The real Kafka and Elasticsearch a test runs against (scripts/services.sh up prints their addresses). Locally a
 * test without them is skipped, with the reason printed; in CI (CI=true, set by .ci/run's environment) a missing
 * engine is an error, so a broken engine start fails the run instead of silently skipping the fleet path.
 *
 * The CI summary (scripts/testSummary.mjs) counts the tests of every file that imports this module as real-engine
 * tests.
 */
const HOW = 'start them with scripts/services.sh up and export what it prints';

function required(variable: 'KAFKA_BROKERS' | 'ELASTICSEARCH_URL', testFile: string): string | undefined {
  // test/support/engineEnvironment.ts moved the addresses out of the product's way.
  const value = (process.env[`TAPWIRE_TEST_${variable}`] ?? process.env[variable])?.trim();
  if (value) return value;
  if (process.env.CI === 'true') throw new Error(`${testFile}: ${variable} is not set; CI runs every real-engine test (${HOW})`);
  console.warn(`${testFile}: skipped: set ${variable} to run against a real engine (${HOW})`);
  return undefined;
}

/** The brokers of the real Kafka, or undefined (skip) outside CI. */
export function realKafkaBrokers(testFile: string): string[] | undefined {
  return required('KAFKA_BROKERS', testFile)?.split(',').map((broker) => broker.trim()).filter(Boolean);
}

/** The URL of the real Elasticsearch, or undefined (skip) outside CI. */
export function realElasticsearchUrl(testFile: string): string | undefined {
  return required('ELASTICSEARCH_URL', testFile);
}

/** The reason a test names in its title when it is skipped. */
export const SKIPPED_WITHOUT_ENGINES = `skipped: no real engine (${HOW})`;
