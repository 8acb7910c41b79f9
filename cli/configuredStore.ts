/**
 * The store a command reads and writes: the one tapwire.yaml selects (`store: embedded|elasticsearch`), or the one
 * `--store` names. The embedded store is caught up from the embedded bus first; the Elasticsearch store is wired
 * with the derived text fields the messages data stream indexes.
 */
import { TOPICS, type Bus } from '../pipeline/bus.js';
import { loadConfig, type ElasticsearchSettings, type TapwireConfig } from '../pipeline/config.js';
import { isTransientEsError, type EsDeadLetter } from '../pipeline/elasticsearch/bulkWriter.js';
import { createEsClient, displayNode } from '../pipeline/elasticsearch/esClient.js';
import { INDEXED_TEXT_FIELDS, type IndexedTextField } from '../pipeline/elasticsearch/esMappings.js';
import { EsStore, type EsStoreOptions } from '../pipeline/elasticsearch/esStore.js';
import type { Logger } from '../pipeline/logger.js';
import type { Store } from '../pipeline/store.js';
import type { McpEvent } from '../pipeline/types/mcpEvent.js';
import { DERIVED_FIELDS } from '../detectors/sigma/derivedFields.js';
import { DEFAULT_SCAN_LIMITS } from '../detectors/sigma/scanLimits.js';
import { withEmbeddedPipeline } from './embeddedPipeline.js';
import { UsageError } from './usage.js';

/** The options the query commands take to choose a store. */
export interface StoreChoice {
  home?: string;
  /** --config FILE */
  config?: string;
  /** --store embedded|es|elasticsearch */
  store?: string;
}

/** The --store and --config options of the query commands. */
export const STORE_CHOICE_OPTIONS = { store: { type: 'string' }, config: { type: 'string' } } as const;

/** The --help lines of STORE_CHOICE_OPTIONS, descriptions starting at column `column`. */
export function storeChoiceHelp(column: number): string {
  const line = (option: string, text: string): string => `  ${option.padEnd(column - 2)}${text}`;
  return [line('--store S', "embedded or es (default: the config's store)"), line('--config FILE', 'tapwire.yaml (default: $TAPWIRE_CONFIG, else <home>/tapwire.yaml)')].join('\n');
}

/** --store's values, with `es` short for elasticsearch. */
function storeKind(value: string | undefined, config: TapwireConfig): TapwireConfig['store'] {
  if (value === undefined) return config.store;
  if (value === 'es' || value === 'elasticsearch') return 'elasticsearch';
  if (value === 'embedded') return 'embedded';
  throw new UsageError(`--store: expected embedded or es, got '${value}'`);
}

/** The config's elasticsearch section; throws when it does not say where the cluster is. */
export function elasticsearchSettings(config: TapwireConfig): ElasticsearchSettings & { node: string } {
  const settings = config.elasticsearch ?? {};
  if (!settings.node) throw new Error(`no Elasticsearch configured: set elasticsearch.node in ${config.source ?? 'tapwire.yaml (--config FILE)'} or ELASTICSEARCH_URL`);
  return { ...settings, node: settings.node };
}

/** The derived text fields the messages data stream indexes, computed as the Sigma engine computes them. */
export function indexedTextFields(event: McpEvent): Record<IndexedTextField, string[]> {
  return Object.fromEntries(INDEXED_TEXT_FIELDS.map((field) => [field, DERIVED_FIELDS.get(field)?.(event, DEFAULT_SCAN_LIMITS) ?? []])) as Record<IndexedTextField, string[]>;
}

/** Dead letters of the Elasticsearch store as records of the bus's dead-letter topic. */
export function publishDeadLetters(bus: Bus): (letters: readonly EsDeadLetter[]) => Promise<void> {
  return (letters) => bus.publish(TOPICS.deadLetters, letters.map((letter) => ({ key: letter.id, value: JSON.stringify({ store: 'elasticsearch', ...letter }) })));
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

/** Runs `work` against the chosen store and closes it afterwards; returns the exit code. */
export async function withConfiguredStore(choice: StoreChoice, work: (opened: { store: Store }) => Promise<void>): Promise<number> {
  const config = loadConfig({ ...(choice.config === undefined ? {} : { file: choice.config }), ...(choice.home === undefined ? {} : { home: choice.home }) });
  if (storeKind(choice.store, config) === 'embedded') return withEmbeddedPipeline(choice.home ?? config.home, work);
  const settings = elasticsearchSettings(config);
  const store = openEsStore(settings);
  try {
    await work({ store });
    return 0;
  } catch (error) {
    if (isTransientEsError(error)) throw new Error(`cannot reach Elasticsearch at ${displayNode(settings.node)}: ${(error as Error).message}`, { cause: error });
    throw error;
  } finally {
    await store.close();
  }
}
