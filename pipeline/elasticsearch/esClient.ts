/** The Elasticsearch client for the `elasticsearch` section of tapwire.yaml. */
import { readFileSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';

/** The client's constructor options (the package's ESM entry does not export their type). */
export type EsClientOptions = ConstructorParameters<typeof Client>[0];

/** The connection part of the config's `elasticsearch` section (pipeline/schemas/config.schema.json). */
export interface EsConnectionSettings {
  node?: string;
  apiKey?: string;
  username?: string;
  password?: string;
  /** PEM file of the CA that signed the cluster's certificate. */
  caFile?: string;
}

/** Client options for the settings; an API key wins over a user name and password. */
export function esClientOptions(settings: EsConnectionSettings): EsClientOptions {
  if (!settings.node) throw new Error('elasticsearch.node is not set (set it in the config file, or ELASTICSEARCH_URL)');
  const options: EsClientOptions = { node: settings.node };
  if (settings.apiKey) options.auth = { apiKey: settings.apiKey };
  else if (settings.username !== undefined) options.auth = { username: settings.username, password: settings.password ?? '' };
  if (settings.caFile) {
    let ca: Buffer;
    try {
      ca = readFileSync(settings.caFile);
    } catch (error) {
      throw new Error(`elasticsearch.caFile: cannot read ${settings.caFile}: ${(error as Error).message}`, { cause: error });
    }
    options.tls = { ca };
  }
  return options;
}

/** The node URL for messages, without credentials written into it (http://user:password@host). */
export function displayNode(node: string): string {
  try {
    const url = new URL(node);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return node;
  }
}

/** A client for the settings. */
export function createEsClient(settings: EsConnectionSettings): Client {
  return new Client(esClientOptions(settings));
}
