/**
 * A Kafka broker or an Elasticsearch node of a test's own: scripts/services.sh started with a run directory and
 * ports of its own, from the same cached jars and distribution as the shared engines. A fault test stops and starts
 * it without disturbing the tests that use the shared ones at the same time.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './tapwireCli.js';
import { freePort } from './freePort.js';

const run = promisify(execFile);


export type EngineKind = 'kafka' | 'elasticsearch';

export class LocalEngine {
  private constructor(
    private readonly kind: EngineKind,
    private readonly env: NodeJS.ProcessEnv,
    private readonly dir: string,
    /** `127.0.0.1:<port>` of the broker, or the node's http:// URL. */
    readonly address: string,
  ) {}

  static async start(kind: EngineKind): Promise<LocalEngine> {
    const dir = mkdtempSync(join(tmpdir(), `tapwire-local-${kind}-`));
    const [a, b, c, d] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const ports =
      kind === 'kafka'
        ? { TAPWIRE_KAFKA_PORT: String(a), TAPWIRE_KAFKA_CONTROLLER_PORT: String(b), TAPWIRE_KAFKA_SASL_PORT: String(c), TAPWIRE_KAFKA_TLS_PORT: String(d) }
        : { TAPWIRE_ES_PORT: String(a), TAPWIRE_ES_TRANSPORT_PORT: String(b), TAPWIRE_ES_HEAP: '512m' };
    const engine = new LocalEngine(kind, { ...process.env, TAPWIRE_SERVICES_RUN: dir, ...ports }, dir, kind === 'kafka' ? `127.0.0.1:${a}` : `http://127.0.0.1:${a}`);
    await engine.up();
    return engine;
  }

  /** Starts it (again, with its data after stop); resolves once it is healthy. */
  async up(): Promise<void> {
    await run('bash', [join(REPO_ROOT, 'scripts', 'services.sh'), 'up', this.kind], { env: this.env, timeout: 300_000 });
  }

  /** Stops it (SIGTERM, by the PID services.sh recorded); its data stays for `up`. */
  async stop(): Promise<void> {
    await run('bash', [join(REPO_ROOT, 'scripts', 'services.sh'), 'down', this.kind], { env: this.env, timeout: 120_000 });
  }

  /** Stops it and removes its data. */
  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
