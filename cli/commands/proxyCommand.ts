/** `tapwire proxy`: a transparent reverse proxy in front of remote (Streamable HTTP or legacy SSE) MCP servers. */
import { HttpTap, OBSERVER_STALL_MS } from '../../collectors/http/httpTap.js';
import { loadProxyConfig, parseListenAddress, ProxyConfigError, proxyConfig, singleUpstreamRoute, type ProxyConfig } from '../../collectors/http/proxyConfig.js';
import { parseCommand, positiveInteger, UsageError } from '../usage.js';

const spec = {
  name: 'proxy',
  summary:
    'Runs a reverse proxy in front of remote MCP servers (Streamable HTTP and legacy HTTP+SSE). Requests and\nresponses pass through unchanged and unbuffered; every JSON-RPC message becomes an event in the embedded bus.',
  usage: 'tapwire proxy --listen HOST:PORT (--upstream URL [--name NAME] | --config FILE) [--home DIR]',
  details: `Options:
  --listen HOST:PORT    where clients connect (port 0 picks a free port); overrides listen: in the file
  --upstream URL        the upstream MCP endpoint, e.g. https://mcp.example.com/mcp (one route at /)
  --name NAME           the upstream's name in events (default: its host)
  --config FILE         YAML file with routes by path prefix or host, TLS, limits (see README)
  --max-body-bytes N    largest request body forwarded; larger ones get 413 (default 16777216)
  --home DIR            Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)

Environment:
  TAPWIRE_PROXY_STALL_MS  how long the stop waits for an observer that makes no progress (default 60000:
                          a minute without storing anything, e.g. the bus locked by another writer) before
                          it gives up and notes the loss for the next tapwire command to record (status)

Clients reach a route at <proxy><path prefix><upstream path>: with --upstream https://u/mcp, at
http://HOST:PORT/mcp. The proxy prints its address and routes on stderr when it is ready, and stops
on SIGINT or SIGTERM after storing the events of open sessions.
`,
  options: {
    listen: { type: 'string' },
    upstream: { type: 'string' },
    name: { type: 'string' },
    config: { type: 'string' },
    'max-body-bytes': { type: 'string' },
    home: { type: 'string' },
  },
} as const;

function configFrom(values: { upstream?: string; name?: string; config?: string; 'max-body-bytes'?: string }): ProxyConfig {
  if (values.upstream !== undefined && values.config !== undefined) throw new UsageError('give either --upstream or --config, not both');
  if (values.upstream === undefined && values.config === undefined) throw new UsageError('missing --upstream URL or --config FILE');
  if (values.name !== undefined && values.upstream === undefined) throw new UsageError('--name goes with --upstream (routes in a config file have their own names)');
  try {
    const config = values.config !== undefined ? loadProxyConfig(values.config) : proxyConfig({ routes: [singleUpstreamRoute(values.upstream!, values.name)] });
    if (values['max-body-bytes'] !== undefined) config.maxBodyBytes = positiveInteger(values['max-body-bytes'], '--max-body-bytes', config.maxBodyBytes);
    return config;
  } catch (error) {
    if (error instanceof ProxyConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** Entry point of `tapwire proxy`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const { values } = parsed;
  const config = configFrom(values);
  let listen = config.listen;
  if (values.listen !== undefined) {
    try {
      listen = parseListenAddress(values.listen);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (!listen) throw new UsageError('missing --listen HOST:PORT');
  const stall = process.env.TAPWIRE_PROXY_STALL_MS;
  const tap = await HttpTap.start({
    config,
    listen,
    ...(values.home !== undefined ? { home: values.home } : {}),
    ...(stall ? { observerStallMs: positiveInteger(stall, 'TAPWIRE_PROXY_STALL_MS', OBSERVER_STALL_MS) } : {}),
  });
  const lines = tap.routes.map((route) => {
    const prefix = route.pathPrefix === '/' ? '' : route.pathPrefix;
    const base = route.host === undefined ? tap.url : tap.url.replace(/^(https?:\/\/)(\[[^\]]+\]|[^:/]+)/, `$1${route.host}`);
    return `  ${route.name}: ${base}${prefix}${route.upstream.pathname}${route.upstream.search} → ${route.upstream.href}`;
  });
  process.stderr.write(`tapwire proxy: listening on ${tap.url}\n${lines.join('\n')}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, () => resolve(name));
  });
  const summary = await tap.close();
  const noted = summary.lossNote ? `; ${summary.lossNote}` : '';
  if (!summary.observer) process.stderr.write(`tapwire proxy: the observer made no progress for ${tap.observerStallMs} ms before it finished; events of open sessions may be missing${noted}\n`);
  else if (summary.observer.dropped > 0) {
    process.stderr.write(`tapwire proxy: ${summary.observer.dropped} of ${summary.observer.events} events could not be stored${summary.observer.lastError ? ` (${summary.observer.lastError})` : ''}${noted}\n`);
  }
  if (summary.unobservedBytes > 0) process.stderr.write(`tapwire proxy: ${summary.unobservedBytes} bytes were forwarded without being observed (observer fell behind)\n`);
  process.stderr.write(`tapwire proxy: stopped on ${signal} after ${summary.exchanges} exchanges (${summary.rejected} refused)\n`);
  return 0;
}
