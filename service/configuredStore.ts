/**
 * The store a command reads and writes: the one tapwire.yaml selects (`store: embedded|elasticsearch`), or the one
 * the caller names. The embedded store is caught up from the embedded bus first (on a Kafka bus the group members
 * write it directly); the Elasticsearch store is wired
 * with the derived text fields the messages data stream indexes, and its dead letters go to the bus's dead-letter
 * topic in the one dead-letter shape (pipeline/recordCodec.ts).
 */
import { TOPICS, type Bus } from '../pipeline/bus.js';
import { loadConfig, type ElasticsearchSettings, type TapwireConfig } from '../pipeline/config.js';
import { isTransientEsError, type EsDeadLetter } from '../pipeline/elasticsearch/bulkWriter.js';
import { createEsClient, displayNode } from '../pipeline/elasticsearch/esClient.js';
import { INDEXED_PARAM_KEYS, INDEXED_TEXT_FIELDS, type IndexedTextField } from '../pipeline/elasticsearch/esMappings.js';
import { EsStore, type EsStoreOptions } from '../pipeline/elasticsearch/esStore.js';
import { EmbeddedStore } from '../pipeline/embedded/embeddedStore.js';
import { resolveHome, type HomePaths } from '../pipeline/home.js';
import type { Logger } from '../pipeline/logger.js';
import { encodeDeadLetter } from '../pipeline/recordCodec.js';
import type { Store } from '../pipeline/store.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import { DERIVED_FIELDS } from '../detectors/sigma/derivedFields.js';
import { EventWork } from '../detectors/sharedEventWork.js';
import { EventContext } from '../detectors/sigma/eventContext.js';
import { FieldPath } from '../detectors/sigma/fieldPath.js';
import { DEFAULT_SCAN_LIMITS } from '../detectors/sigma/scanLimits.js';
import { openEmbeddedPipeline, type EmbeddedPipeline } from './embeddedPipeline.js';

export type StoreKind = TapwireConfig['store'];

/** Which store a query command uses. */
export interface StoreChoice {
  home?: string;
  /** tapwire.yaml (default: $TAPWIRE_CONFIG, else <home>/tapwire.yaml). */
  config?: string;
  /** Default: the config's store. */
  store?: StoreKind;
}

/**
 * What a query command works on: the chosen store and its kind, the config it came from, and the embedded pipeline
 * when the store and the bus are both embedded.
 */
export interface OpenedStore {
  store: Store;
  config: TapwireConfig;
  kind: StoreKind;
  embedded?: EmbeddedPipeline;
}

/** The config's elasticsearch section; throws when it does not say where the cluster is. */
export function elasticsearchSettings(config: TapwireConfig): ElasticsearchSettings & { node: string } {
  const settings = config.elasticsearch ?? {};
  if (!settings.node) throw new Error(`no Elasticsearch configured: set elasticsearch.node in ${config.source ?? 'tapwire.yaml (--config FILE)'} or ELASTICSEARCH_URL`);
  return { ...settings, node: settings.node };
}

/** The derived text fields the messages data stream indexes, computed as the Sigma engine computes them. */
export function indexedTextFields(event: McpEvent): Record<IndexedTextField, string[]> {
  const context = new EventContext(event, DEFAULT_SCAN_LIMITS, new EventWork());
  // A params key's text is the strings the engine's matchers read at that key (every scalar beneath it).
  const params = Object.fromEntries(INDEXED_PARAM_KEYS.map((key) => [`mcp.param_text.${key}`, [...context.strings(new FieldPath(`mcp.params.${key}`), false)]]));
  return Object.fromEntries(INDEXED_TEXT_FIELDS.map((field) => [field, params[field] ?? DERIVED_FIELDS.get(field)?.(event, DEFAULT_SCAN_LIMITS, context.report, context.shared) ?? []])) as Record<IndexedTextField, string[]>;
}

/** Dead letters of the Elasticsearch store as records of the bus's dead-letter topic. */
export function publishDeadLetters(bus: Bus): (letters: readonly EsDeadLetter[]) => Promise<void> {
  return (letters) =>
    bus.publish(
      TOPICS.deadLetters,
      letters.map((letter) => encodeDeadLetter({ refusedBy: 'elasticsearch', topic: letter.index, key: letter.id, status: letter.status, error: letter.error, value: JSON.stringify(letter.document) })),
    );
}

/** An Elasticsearch store for the settings, indexing the derived text fields. */
export function openEsStore(settings: ElasticsearchSettings, options: { deadLetters?: EsStoreOptions['deadLetters']; logger?: Logger } = {}): EsStore {
  return new EsStore(createEsClient(settings), {
    ...(settings.namespace === undefined ? {} : { namespace: settings.namespace }),
    ...(settings.flushBytes === undefined ? {} : { flushBytes: settings.flushBytes }),
    ...(settings.flushIntervalMs === undefined ? {} : { flushIntervalMs: settings.flushIntervalMs }),
    textFieldsOf: indexedTextFields,
    ...options,
  });
}

/** The store a worker writes into: the configured one, with Elasticsearch's dead letters sent to `bus`. */
export function openWorkerStore(config: TapwireConfig, home: HomePaths, bus: Bus, logger: Logger): Store {
  if (config.store === 'elasticsearch') return openEsStore(elasticsearchSettings(config), { deadLetters: publishDeadLetters(bus), logger });
  return new EmbeddedStore(home.store);
}

/** The config a choice names. */
export function choiceConfig(choice: StoreChoice): TapwireConfig {
  return loadConfig({ ...(choice.config === undefined ? {} : { file: choice.config }), ...(choice.home === undefined ? {} : { home: choice.home }) });
}

/** Runs `work` against the chosen store and closes it afterwards; returns the exit code. */
export async function withConfiguredStore(choice: StoreChoice, work: (opened: OpenedStore) => Promise<void>): Promise<number> {
  const config = choiceConfig(choice);
  if ((choice.store ?? config.store) === 'embedded') {
    if (config.bus !== 'embedded') {
      // The group members write the home's store themselves (openWorkerStore): there is no embedded bus to catch up from.
      const store = new EmbeddedStore(resolveHome(choice.home ?? config.home).store);
      try {
        await work({ store, config, kind: 'embedded' });
        return 0;
      } finally {
        await store.close();
      }
    }
    const embedded = await openEmbeddedPipeline(choice.home ?? config.home);
    try {
      await work({ store: embedded.store, config, kind: 'embedded', embedded });
      return 0;
    } finally {
      await embedded.close();
    }
  }
  const settings = elasticsearchSettings(config);
  const store = openEsStore(settings);
  try {
    await work({ store, config, kind: 'elasticsearch' });
    return 0;
  } catch (error) {
    if (isTransientEsError(error)) throw new Error(`cannot reach Elasticsearch at ${displayNode(settings.node)}: ${(error as Error).message}`, { cause: error });
    throw error;
  } finally {
    await store.close();
  }
}
