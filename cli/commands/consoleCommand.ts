/** `tapwire console`: the local web console for analysts and responders (loopback only, token required). */
import { loadConfig } from '../../pipeline/config.js';
import { resolveHome } from '../../pipeline/home.js';
import type { Store } from '../../pipeline/store.js';
import { consoleToken } from '../../console/server/consoleToken.js';
import { startConsole } from '../../console/server/consoleServer.js';
import { DEFAULT_LISTEN, parseListenAddress, originOf } from '../../console/server/listenAddress.js';
import { withConfiguredStore } from '../../service/configuredStore.js';
import { withDriftStates } from '../../service/driftStates.js';
import { STORE_CHOICE_OPTIONS, storeChoice, storeChoiceHelp } from '../storeChoice.js';
import { StopSignal } from '../../service/stopSignal.js';
import { parseCommand } from '../usage.js';

const spec = {
  name: 'console',
  summary:
    'Serves the Tapwire console: alerts (live), an alert with its evidence and diff, session timelines with\n' +
    'cross-server flows, the server and tool inventory, and the review (approve/reject) of changed tools.\n' +
    'It listens on loopback only and needs a token: open the one-time login URL it prints, or send\n' +
    "'Authorization: Bearer <token>'. A token kept in <home>/console.token (mode 0600) is used instead of a new one.",
  usage: `tapwire console [--listen ${originOf(DEFAULT_LISTEN).slice(7)}] [--home DIR] [--store embedded|elasticsearch] [--config FILE]`,
  details: `Options:
  --listen H:P    loopback address and port (default ${originOf(DEFAULT_LISTEN).slice(7)}; port 0 picks a free one)
  --home DIR      Tapwire home (default: $TAPWIRE_HOME or ~/.tapwire)
${storeChoiceHelp(18)}`,
  options: { listen: { type: 'string' }, home: { type: 'string' }, ...STORE_CHOICE_OPTIONS },
} as const;

/** Entry point of `tapwire console`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const o = parsed.values;
  const address = o.listen === undefined ? DEFAULT_LISTEN : parseListenAddress(o.listen);
  const config = loadConfig({ ...(o.config === undefined ? {} : { file: o.config }), ...(o.home === undefined ? {} : { home: o.home }) });
  const home = resolveHome(o.home ?? config.home);
  const choice = storeChoice(o);
  const kind = o.store === undefined ? config.store : o.store === 'embedded' ? 'embedded' : 'elasticsearch';
  const token = consoleToken(home.root);
  const stop = new StopSignal();
  const running = await startConsole({
    address,
    token: token.value,
    log: (line) => void process.stderr.write(`tapwire console: ${line}\n`),
    data: {
      source: kind === 'embedded' ? `embedded ${home.root}` : `elasticsearch ${config.elasticsearch?.node ?? ''}`,
      withDriftStates: (work) => withDriftStates({ ...(o.home === undefined ? {} : { home: o.home }), ...(o.config === undefined ? {} : { config: o.config }) }, work),
      withStore: async <T>(work: (store: Store) => Promise<T>): Promise<T> => {
        let result: T | undefined;
        await withConfiguredStore(choice, async ({ store }) => {
          result = await work(store);
        });
        return result as T;
      },
    },
  });
  process.stdout.write(
    `Tapwire console on ${running.origin} (${kind} store${kind === 'embedded' ? ` in ${home.root}` : ''})\n` +
      `  open once to log in: ${running.loginUrl}\n` +
      (token.file === undefined ? `  token (for Authorization: Bearer): ${token.value}\n` : `  token: the one in ${token.file}\n`) +
      '  Ctrl-C stops it.\n',
  );
  await stop.promise;
  await running.close();
  return 0;
}
