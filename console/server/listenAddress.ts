/**
 * Where the console listens. Only loopback is accepted: the console shows telemetry about the user's tools and can
 * approve tool definitions, so it must never be reachable from another machine.
 */
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export const DEFAULT_LISTEN: ListenAddress = { host: '127.0.0.1', port: 7777 };

function isLoopback(host: string): boolean {
  if (host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Parses `127.0.0.1:PORT`, `[::1]:PORT` or `localhost:PORT`; refuses any address that is not loopback. */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (!match) throw new Error(`--listen: expected HOST:PORT (e.g. 127.0.0.1:7777), got '${value}'`);
  const named = (match[1] ?? match[2]) as string;
  const host = named === 'localhost' ? '127.0.0.1' : named;
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`--listen: port ${port} is out of range`);
  if (!isLoopback(host)) throw new Error(`--listen: refusing to listen on '${named}': the console binds to loopback only (127.0.0.1 or [::1])`);
  return { host, port };
}

/** The address as a URL origin: http://127.0.0.1:7777 or http://[::1]:7777. */
export function originOf(address: ListenAddress): string {
  return `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
