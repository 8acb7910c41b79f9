/**
 * The console over the store the config chooses: with `--store elasticsearch` it reads through the same
 * store-opening code as `tapwire alerts --store es`, so a cluster that does not answer is a clear error in the API
 * (and the page), not a crash of the console.
 */
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { tempHome } from '../support/tapwireCli.js';
import { TEST_MS } from '../support/loadBounds.js';
import { startConsoleProcess } from './consoleProcess.js';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('tapwire console --store elasticsearch', { timeout: TEST_MS }, () => {
  const { home, remove } = tempHome('tapwire-console-es-');
  afterAll(remove);

  it('answers 503 naming the cluster when Elasticsearch cannot be reached, and keeps serving', async () => {
    const node = `http://127.0.0.1:${await closedPort()}`;
    const tapwire = await startConsoleProcess(home, ['--store', 'elasticsearch'], { ELASTICSEARCH_URL: node });
    try {
      const auth = { Authorization: `Bearer ${tapwire.token}` };
      const answer = await fetch(`${tapwire.origin}/api/alerts`, { headers: auth });
      expect(answer.status).toBe(503);
      expect(((await answer.json()) as { error: string }).error).toContain(`cannot reach Elasticsearch at ${node}`);
      const overview = (await (await fetch(`${tapwire.origin}/api/overview`, { headers: auth })).json()) as { source: string };
      expect(overview.source).toBe(`elasticsearch ${node}`);
    } finally {
      await tapwire.stop();
    }
  });
});
