/**
 * Vitest setup: the real engines' addresses (.ci/run exports what scripts/services.sh prints) are for the tests that
 * ask for them through realEngines.ts. Tapwire itself reads the same variables as configuration overrides, so every
 * other test, and every CLI process it spawns, must not see them: a test of the Kafka wire-protocol double or of a
 * config file would otherwise run against the real broker instead.
 */
for (const name of ['KAFKA_BROKERS', 'ELASTICSEARCH_URL'] as const) {
  const value = process.env[name];
  if (value !== undefined) {
    process.env[`TAPWIRE_TEST_${name}`] = value;
    delete process.env[name];
  }
}
