/** The --store and --config options of the query commands, parsed into the service layer's StoreChoice. */
import type { StoreChoice, StoreKind } from '../service/configuredStore.js';
import { UsageError } from './usage.js';

/** The --store and --config options. */
export const STORE_CHOICE_OPTIONS = { store: { type: 'string' }, config: { type: 'string' } } as const;

/** The --help lines of STORE_CHOICE_OPTIONS, descriptions starting at column `column`. */
export function storeChoiceHelp(column: number): string {
  const line = (option: string, text: string): string => `  ${option.padEnd(column - 2)}${text}`;
  return [line('--store S', "embedded or es (default: the config's store)"), line('--config FILE', 'tapwire.yaml (default: $TAPWIRE_CONFIG, else <home>/tapwire.yaml)')].join('\n');
}

/** --store's values, with `es` short for elasticsearch. */
function storeKind(value: string | undefined): StoreKind | undefined {
  if (value === undefined) return undefined;
  if (value === 'es' || value === 'elasticsearch') return 'elasticsearch';
  if (value === 'embedded') return 'embedded';
  throw new UsageError(`--store: expected embedded or es, got '${value}'`);
}

/** The StoreChoice of a command's --home, --config and --store. */
export function storeChoice(options: { home?: string | undefined; config?: string | undefined; store?: string | undefined }): StoreChoice {
  const store = storeKind(options.store);
  return { ...(options.home === undefined ? {} : { home: options.home }), ...(options.config === undefined ? {} : { config: options.config }), ...(store === undefined ? {} : { store }) };
}
