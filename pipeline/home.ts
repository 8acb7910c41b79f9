/** Where the embedded pipeline keeps its files: --home, else $TAPWIRE_HOME, else ~/.tapwire. */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface HomePaths {
  root: string;
  bus: string;
  store: string;
  state: string;
  redactionKey: string;
}

/** Resolves the Tapwire home directory without touching the file system. */
export function resolveHome(explicit?: string): HomePaths {
  const root = resolve(explicit ?? process.env.TAPWIRE_HOME ?? join(homedir(), '.tapwire'));
  return {
    root,
    bus: join(root, 'bus.sqlite'),
    store: join(root, 'store.sqlite'),
    state: join(root, 'state.sqlite'),
    redactionKey: join(root, 'redaction.key'),
  };
}

/** Resolves the home and creates it (mode 0700: it holds telemetry about the user's tools). */
export function ensureHome(explicit?: string): HomePaths {
  const paths = resolveHome(explicit);
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  return paths;
}
