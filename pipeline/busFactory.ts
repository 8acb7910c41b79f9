/** The bus tapwire.yaml selects: the embedded SQLite log of the home, or a Kafka cluster. */
import type { Bus } from './bus.js';
import type { TapwireConfig } from './config.js';
import { EmbeddedBus } from './embedded/embeddedBus.js';
import type { HomePaths } from './home.js';
import { KafkaBus } from './kafka/kafkaBus.js';
import type { KafkaRole } from './kafka/kafkaClientConfig.js';
import type { Logger } from './logger.js';

export interface OpenBusOptions {
  /** The home whose bus file the embedded bus uses. */
  home: HomePaths;
  /** What the process does with a Kafka bus (how long its client keeps retrying). */
  role: KafkaRole;
  logger?: Logger;
}

/** Opens the configured bus (Kafka connects on first use). */
export function openBus(config: TapwireConfig, options: OpenBusOptions): Bus {
  if (config.bus === 'kafka') return new KafkaBus(config.kafka ?? {}, { role: options.role, ...(options.logger ? { logger: options.logger } : {}) });
  return new EmbeddedBus(options.home.bus);
}

/** One line naming the configured bus, for logs (no secrets). */
export function describeBus(config: TapwireConfig, home: HomePaths): string {
  return config.bus === 'kafka' ? `kafka ${(config.kafka?.brokers ?? []).join(',')}` : `embedded ${home.bus}`;
}
