/**
 * Who may talk to the console, decided before any route runs:
 * - the Host header must name the console itself (a DNS-rebound page on another name cannot reach it);
 * - every request but /login carries the token, as `Authorization: Bearer` or as the HttpOnly SameSite=Strict
 *   cookie that the one-time login URL sets;
 * - a write must come from the console's own pages: Origin equal to the console's, Sec-Fetch-Site same-origin when
 *   the browser sends it, and a JSON body (a cross-site form cannot send one). Other loopback ports are the same
 *   "site" to a browser, so SameSite alone would not stop a page served by another local program.
 */
import type { IncomingMessage } from 'node:http';
import { newSecret, sameSecret } from './consoleToken.js';

export const SESSION_COOKIE = 'tapwire_console';

export type GuardVerdict = { ok: true } | { ok: false; status: 401 | 403 | 421; reason: string };

const SAFE_METHODS = new Set(['GET', 'HEAD']);

function cookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function bearer(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

export class RequestGuard {
  private loginCode: string | undefined = newSecret();

  constructor(
    private readonly token: string,
    /** http://127.0.0.1:PORT */
    private readonly origin: string,
  ) {}

  /** The one-time code of the login URL; undefined once it has been used. */
  get pendingLoginCode(): string | undefined {
    return this.loginCode;
  }

  /** Consumes the one-time login code: true exactly once, for the right code. */
  redeemLogin(code: string | undefined): boolean {
    if (this.loginCode === undefined || !sameSecret(code, this.loginCode)) return false;
    this.loginCode = undefined;
    return true;
  }

  /** The Set-Cookie value that carries the token after login. */
  sessionCookie(): string {
    return `${SESSION_COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /** Whether the request names this console as its host. */
  hostAllowed(request: IncomingMessage): boolean {
    const host = request.headers.host;
    const own = new URL(this.origin);
    return host === own.host || host === `localhost:${own.port}`;
  }

  /** Whether the request carries the token (header or cookie). */
  authenticated(request: IncomingMessage): boolean {
    return sameSecret(bearer(request), this.token) || sameSecret(cookie(request, SESSION_COOKIE), this.token);
  }

  /** The verdict on a request to anything but /login. */
  check(request: IncomingMessage): GuardVerdict {
    if (!this.hostAllowed(request)) return { ok: false, status: 421, reason: `this console answers only to ${new URL(this.origin).host}` };
    if (!this.authenticated(request)) return { ok: false, status: 401, reason: 'missing or wrong token: open the login URL tapwire console printed, or send Authorization: Bearer <token>' };
    if (SAFE_METHODS.has(request.method ?? 'GET')) return { ok: true };
    return this.writeAllowed(request);
  }

  private writeAllowed(request: IncomingMessage): GuardVerdict {
    const origin = request.headers.origin;
    const fetchSite = request.headers['sec-fetch-site'];
    if (origin !== undefined && origin !== this.origin && origin !== this.origin.replace('127.0.0.1', 'localhost')) {
      return { ok: false, status: 403, reason: `cross-origin write refused (Origin ${origin})` };
    }
    if (fetchSite !== undefined && fetchSite !== 'same-origin') return { ok: false, status: 403, reason: `cross-origin write refused (Sec-Fetch-Site ${String(fetchSite)})` };
    // A browser always sends Origin with a POST; only a non-browser client (the bearer token, no cookie) may omit it.
    if (origin === undefined && bearer(request) === undefined) return { ok: false, status: 403, reason: 'write without Origin refused' };
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return { ok: false, status: 403, reason: 'writes must send Content-Type: application/json' };
    return { ok: true };
  }
}
