/** pino JSON logs on stderr (stdout may carry MCP traffic); human-readable when stderr is a terminal. */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** Creates the process logger. TAPWIRE_LOG_LEVEL overrides the level. */
export function createLogger(name: string, level = 'info'): Logger {
  const options = { name, level: process.env.TAPWIRE_LOG_LEVEL ?? level };
  if (process.stderr.isTTY) {
    return pino(options, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}

export type { Logger };
