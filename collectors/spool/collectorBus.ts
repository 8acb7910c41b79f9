/**
 * How a collector (a stdio tap's observer, the proxy's observer) reaches the configured bus. The embedded bus is a
 * local SQLite file written synchronously: it is its own durable buffer. A Kafka bus is remote, so the collector
 * publishes through the disk spool (spoolingPublisher.ts). A configuration that cannot be loaded must not cost the
 * traffic or the events: the collector says why on stderr and keeps its events in the embedded bus of its home.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { OutgoingRecord } from '../../pipeline/bus.js';
import { loadConfig } from '../../pipeline/config.js';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { resolveHome } from '../../pipeline/home.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import { DiskSpool } from './diskSpool.js';
import { SpoolingPublisher } from './spoolingPublisher.js';

/** A collector's open bus. */
export interface CollectorBus {
  /** What the collector's EventPublisher publishes through; a throw is a failure it retries and counts. */
  publish(topic: string, records: readonly OutgoingRecord[]): void | Promise<void>;
  /** Delivers what it can within `timeoutMs` (a spool keeps the rest for later) and releases the bus. */
  close(timeoutMs: number): Promise<void>;
  /** Records waiting in the spool (0 without one). */
  spoolDepth(): number;
}

export interface CollectorBusOptions {
  /** The --home of the collector. */
  home?: string;
  /** The --config of the collector; else $TAPWIRE_CONFIG or <home>/tapwire.yaml. */
  configFile?: string;
  /** Where the collector's own warnings go (stderr). */
  warn: (message: string) => void;
  /** The spool overflowed: `dropped` oldest events now; the collector reports it as an event. */
  onSpoolDrop?: (dropped: number, total: number) => void;
  /** The spool has been delivered. */
  onSpoolDrained?: (delivered: number) => void;
}

const DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024;

/** Opens the bus the configuration selects, or the home's embedded bus when the configuration is unusable. */
export function openCollectorBus(options: CollectorBusOptions): CollectorBus {
  let config;
  try {
    config = loadConfig({ ...(options.configFile ? { file: options.configFile } : {}), ...(options.home ? { home: options.home } : {}) });
  } catch (error) {
    options.warn(`${(error as Error).message}\nevents go to the embedded bus of the home instead`);
  }
  const home = resolveHome(options.home ?? config?.home);
  if (config?.bus !== 'kafka') return embeddedCollectorBus(home.bus);
  const kafka = new KafkaBus(config.kafka ?? {}, { role: 'collector' });
  const dir = config.spool?.dir ?? join(home.root, 'spool');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const spooling = new SpoolingPublisher((topic, records) => kafka.publish(topic, records), new DiskSpool(join(dir, 'spool.sqlite'), config.spool?.maxBytes ?? DEFAULT_SPOOL_BYTES), {
    onSpooling: (error) => options.warn(`Kafka unreachable (${error.message}); events go to the spool in ${dir} until it is back`),
    onDrained: (delivered) => {
      options.warn(`Kafka reachable again; ${delivered} spooled events delivered`);
      options.onSpoolDrained?.(delivered);
    },
    ...(options.onSpoolDrop ? { onDropped: options.onSpoolDrop } : {}),
  });
  return {
    publish: (topic, records) => spooling.publish(topic, records),
    close: async (timeoutMs) => {
      await spooling.close(timeoutMs);
      await kafka.close();
    },
    spoolDepth: () => spooling.stats().depth,
  };
}

/** The embedded bus, opened on first publish with a short busy timeout: a collector thread must not wait on a lock. */
function embeddedCollectorBus(file: string): CollectorBus {
  let bus: EmbeddedBus | undefined;
  return {
    publish: (topic, records) => {
      bus ??= new EmbeddedBus(file, { busyTimeoutMs: 250 });
      bus.appendSync(topic, records);
    },
    close: async () => {
      await bus?.close();
    },
    spoolDepth: () => 0,
  };
}
