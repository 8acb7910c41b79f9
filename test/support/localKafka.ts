/**
 * A Kafka broker of a test's own: scripts/services.sh started with a run directory and ports of its own, from the
 * same cached jars as the shared one. A fault test stops and starts it without disturbing the tests that use the
 * shared broker at the same time.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './tapwireCli.js';

const run = promisify(execFile);

/** A port the kernel hands out on 127.0.0.1 and that is free again when this returns. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class LocalKafka {
  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly dir: string,
    readonly brokers: string[],
  ) {}

  static async start(): Promise<LocalKafka> {
    const dir = mkdtempSync(join(tmpdir(), 'tapwire-local-kafka-'));
    const [port, controller, sasl] = [await freePort(), await freePort(), await freePort()];
    const env = { ...process.env, TAPWIRE_SERVICES_RUN: dir, TAPWIRE_KAFKA_PORT: String(port), TAPWIRE_KAFKA_CONTROLLER_PORT: String(controller), TAPWIRE_KAFKA_SASL_PORT: String(sasl) };
    const kafka = new LocalKafka(env, dir, [`127.0.0.1:${port}`]);
    await kafka.up();
    return kafka;
  }

  /** Starts the broker again with its log (after stop). */
  async up(): Promise<void> {
    await run('bash', [join(REPO_ROOT, 'scripts', 'services.sh'), 'up', 'kafka'], { env: this.env, timeout: 300_000 });
  }

  /** Stops the broker (SIGTERM, by the PID services.sh recorded); its log stays for `up`. */
  async stop(): Promise<void> {
    await run('bash', [join(REPO_ROOT, 'scripts', 'services.sh'), 'down', 'kafka'], { env: this.env, timeout: 120_000 });
  }

  /** Stops it and removes its data. */
  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
