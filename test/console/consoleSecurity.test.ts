/**
 * The console's guard over real sockets, against a home filled by `tapwire demo` (real servers behind real taps):
 * loopback only, the token on every request, the one-time login, the Host check, refused cross-origin writes, the CSP.
 */
import { request as httpRequest } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../support/tapwireCli.js';
import { DEMO_MS, runDemo, TEST_MS, WAIT_MS } from '../support/loadBounds.js';
import { startConsoleProcess, type ConsoleProcess } from './consoleProcess.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (node:http, so Host and Origin can be anything). */
function send(origin: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}${path}`, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('tapwire console: access control', { timeout: TEST_MS }, () => {
  const { home, remove } = tempHome('tapwire-console-sec-');
  let console_: ConsoleProcess;
  const bearer = (): Record<string, string> => ({ Authorization: `Bearer ${console_.token}` });
  const pendingChanges = async (): Promise<number> => (JSON.parse((await send(console_.origin, '/api/changes', { headers: bearer() })).body) as { changes: unknown[] }).changes.length;

  beforeAll(async () => {
    await runDemo(home);
    console_ = await startConsoleProcess(home);
  }, DEMO_MS + WAIT_MS);
  afterAll(async () => {
    await console_?.stop();
    remove();
  });

  it('refuses to listen anywhere but loopback', async () => {
    for (const listen of ['0.0.0.0:7777', '192.168.1.5:7777', '[::]:7777', 'example.com:80']) {
      const result = await runCli(['console', '--home', home, '--listen', listen]);
      expect(result.code, listen).toBe(1);
      expect(result.stderr).toContain('loopback only');
    }
  });

  it('answers 401 to every request without the right token', async () => {
    for (const path of ['/', '/api/alerts', '/api/changes', '/app/main.js', '/static/console.css']) {
      expect((await send(console_.origin, path)).status, path).toBe(401);
      expect((await send(console_.origin, path, { headers: { Authorization: 'Bearer wrong-token' } })).status, path).toBe(401);
      expect((await send(console_.origin, path, { headers: { Cookie: 'tapwire_console=wrong-token' } })).status, path).toBe(401);
    }
    const alerts = await send(console_.origin, '/api/alerts', { headers: bearer() });
    expect(alerts.status).toBe(200);
    expect(alerts.body).toContain('Tool definition changed (rug pull)');
  });

  it('logs in once through the login URL with an HttpOnly SameSite=Strict cookie', async () => {
    const path = console_.loginUrl.slice(console_.origin.length);
    const first = await send(console_.origin, path);
    expect(first.status).toBe(303);
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const value = /^(tapwire_console=[^;]+)/.exec(cookie)?.[1] as string;
    expect((await send(console_.origin, '/api/alerts', { headers: { Cookie: value } })).status).toBe(200);
    expect((await send(console_.origin, path)).status).toBe(401);
  });

  it('answers only to its own Host name (no DNS rebinding)', async () => {
    const port = new URL(console_.origin).port;
    expect((await send(console_.origin, '/api/alerts', { headers: { ...bearer(), Host: `attacker.example:${port}` } })).status).toBe(421);
  });

  it('refuses cross-origin writes even with the token, and records nothing', async () => {
    const before = await pendingChanges();
    expect(before).toBe(1);
    const changes = JSON.parse((await send(console_.origin, '/api/changes', { headers: bearer() })).body) as { changes: { server_id: string; key: string; hash: string }[] };
    const body = JSON.stringify({ ...changes.changes[0], decision: 'approve' });
    const json = { 'Content-Type': 'application/json' };
    const attempts: Record<string, string>[] = [
      { ...bearer(), ...json, Origin: 'http://attacker.example' },
      { ...bearer(), ...json, Origin: 'http://127.0.0.1:9' },
      { ...bearer(), ...json, Origin: console_.origin, 'Sec-Fetch-Site': 'same-site' },
      { ...bearer(), Origin: console_.origin, 'Content-Type': 'text/plain' },
      { Cookie: `tapwire_console=${console_.token}`, ...json },
    ];
    for (const headers of attempts) expect((await send(console_.origin, '/api/decisions', { method: 'POST', headers, body })).status, JSON.stringify(headers)).toBe(403);
    expect(await pendingChanges()).toBe(before);
    expect(console_.stderr()).toContain('cross-origin write refused (Origin http://attacker.example)');
  });

  it('records a decision only for the exact definition the reviewer saw', async () => {
    const changes = JSON.parse((await send(console_.origin, '/api/changes', { headers: bearer() })).body) as { changes: { server_id: string; key: string; hash: string }[] };
    const change = changes.changes[0]!;
    const headers = { ...bearer(), 'Content-Type': 'application/json' };
    const stale = await send(console_.origin, '/api/decisions', { method: 'POST', headers, body: JSON.stringify({ ...change, hash: '0'.repeat(64), decision: 'approve' }) });
    expect(stale.status).toBe(409);
    expect(stale.body).toContain('another version since');
    const malformed = await send(console_.origin, '/api/decisions', { method: 'POST', headers, body: JSON.stringify({ ...change, decision: 'maybe' }) });
    expect(malformed.status).toBe(400);
    expect(await pendingChanges()).toBe(1);
  });

  it('sends a strict CSP, and its page has no inline script or style', async () => {
    const page = await send(console_.origin, '/', { headers: bearer() });
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('uses the token kept in the home instead of printing a new one', async () => {
    const token = 'home-token-0123456789abcdef';
    writeFileSync(join(home, 'console.token'), `${token}\n`, { mode: 0o600 });
    const other = await startConsoleProcess(home);
    try {
      expect(other.token).toBe(token);
      expect((await send(other.origin, '/api/alerts', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await send(other.origin, '/api/alerts', { headers: bearer() })).status).toBe(401);
    } finally {
      await other.stop();
    }
  });
});
