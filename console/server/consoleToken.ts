/**
 * The console's bearer token: the one kept in the home (console.token, mode 0600) when it exists, so a scripted
 * client can read it there; otherwise a fresh random one per run, printed once. Compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ConsoleToken {
  value: string;
  /** The file it was read from; undefined when generated for this run. */
  file?: string;
}

/** A new random token (256 bits, URL-safe). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The home's console.token, or a new token for this run. */
export function consoleToken(homeRoot: string): ConsoleToken {
  const file = join(homeRoot, 'console.token');
  if (!existsSync(file)) return { value: newSecret() };
  const value = readFileSync(file, 'utf8').trim();
  if (value.length < 16) throw new Error(`${file}: the console token must have at least 16 characters`);
  return { value, file };
}

/** Whether `presented` equals `secret`, in time that does not depend on where they differ. */
export function sameSecret(presented: string | undefined, secret: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(secret);
  // Compare equal-length buffers always, so the length check does not short-circuit the timing either.
  return timingSafeEqual(a.length === b.length ? a : b, b) && a.length === b.length;
}
