/**
 * Where Tapwire keeps its data in Elasticsearch: the data streams follow the `<type>-<dataset>-<namespace>` naming
 * scheme, so Kibana's logs-* views, the Security app and Fleet conventions all find them.
 */

/** The datasets Tapwire writes (event.dataset and data_stream.dataset). */
export const DATASETS = { messages: 'mcp.messages', alerts: 'mcp.alerts' } as const;

/** The names of everything `tapwire es setup` installs and the store writes, for one namespace. */
export interface EsNames {
  namespace: string;
  /** The events data stream, logs-mcp.messages-<namespace>. */
  messages: string;
  /** The alerts data stream, logs-mcp.alerts-<namespace>. */
  alerts: string;
  /** A plain index holding the store's source offsets (data streams are append-only; an offset is updated). */
  positions: string;
}

/** Template, component and pipeline names, shared by every namespace. */
export const ES_TEMPLATE_NAMES = {
  ecsMappings: 'tapwire-ecs@mappings',
  messagesMappings: 'tapwire-mcp.messages@mappings',
  alertsMappings: 'tapwire-mcp.alerts@mappings',
  settings: 'tapwire@settings',
  /** Fleet's convention for user customisations: composed last, and allowed to be missing. */
  messagesCustom: 'logs-mcp.messages@custom',
  alertsCustom: 'logs-mcp.alerts@custom',
  messagesTemplate: 'logs-mcp.messages',
  alertsTemplate: 'logs-mcp.alerts',
  finalPipeline: 'tapwire-mcp@final',
} as const;

/** Data stream namespaces: lower case letters, digits and underscores (the config schema's pattern). */
const NAMESPACE = /^[a-z0-9_]{1,100}$/;

/** The names for a namespace; throws on a namespace Elasticsearch would refuse in a data stream name. */
export function esNames(namespace = 'default'): EsNames {
  if (!NAMESPACE.test(namespace)) throw new Error(`elasticsearch.namespace: '${namespace}' must be 1-100 of a-z, 0-9 and _`);
  return {
    namespace,
    messages: `logs-${DATASETS.messages}-${namespace}`,
    alerts: `logs-${DATASETS.alerts}-${namespace}`,
    positions: `tapwire-positions-${namespace}`,
  };
}
