/**
 * Redactor.text() skips the secret patterns for strings that hold none of what any of them needs (a literal cue or
 * a long run of token characters): the burst work of issue 10 found the patterns were most of the normalizer's time.
 * This proves the shortcut changes nothing: on every string of the redaction corpus, on secrets in every carrier and
 * assignment form, and on generated strings built from the patterns' own cues and boundaries, text() must equal
 * scanText(), the scan of every pattern.
 *
 * Mutation checks (kept as the issue asks): removing `dsn`, `webhook` or `%` from the prefilter, or raising its run
 * length from 15 to 16 (Slack's shortest token), makes this test fail.
 */
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../collectors/redaction.js';
import { SECRET_PATTERNS } from '../../collectors/secretPatterns.js';
import { carrierFor, FAMILIES, ordinaryValues } from './secretCorpus.js';

const redactor = new Redactor('prefilter-test-key');

/** Every string in a JSON value (keys too), and the value's JSON text. */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      stringsOf(item, out);
    }
  }
  return out;
}

/** A small deterministic generator, so a failure names a string that can be reproduced. */
function generator(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

const NAMES = ['token', 'secret', 'password', 'passwd', 'passphrase', 'authorization', 'Authorization', 'cookie', 'credential', 'credentials', 'apikey', 'privatekey', 'accesskey', 'secretkey', 'auth', 'pass', 'sessionid', 'dsn', 'DSN', 'webhook', 'api_key', 'API_KEY', 'x-api-key', 'accessKey', 'signing_key', 'OPENAI_APIKEY', 'refresh_token', 'db.password', 'SENTRY_DSN', 'slack_webhook'];
const CUES = ['bearer', 'Bearer', 'BEARER', 'token', 'api key', 'api-key', 'apikey', 'secret', 'password', 'passwd', 'passphrase', 'credentials', 'access key', 'auth', 'Token is', 'password was', 'secret:', 'auth='];
const VALUES = ['a1B2c3D4e5', 'Zx9-Qw8_Er7', 'hunter22x!', 'p', 'true', 'alpha', 'Basic dXNlcjpwYXNz', 'Bearer abc.DEF-123_xyz', '"q1W2e3R4t5"', "'s3cr3t-V4lue'"];
const FORMS = [(n: string, v: string) => `${n}=${v}`, (n: string, v: string) => `${n}: ${v}`, (n: string, v: string) => `"${n}":"${v}"`, (n: string, v: string) => `--${n} ${v}`, (n: string, v: string) => `-${n}=${v}`, (n: string, v: string) => `${n} ${v}`];
const PIECES = ['://', 'u:p@', '@', '-----BEGIN ', 'PRIVATE KEY-----', 'eyJ', '.', '%2F', '%', '=', ':', '~', '/', '+', '_', '-', ' ', '\t', '"', "'", 'AA', 'Q~', 'AKIA', 'sk_live_', 'xoxb-', 'hvs.', 'key-', 'aws', '\u212Aey', '\u0130', 'é', '😀'];
const RUN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~+/=:';

function generated(count: number): string[] {
  const pick = generator(0x7a9f);
  const run = (length: number): string => Array.from({ length }, () => RUN_CHARS[pick(RUN_CHARS.length)]).join('');
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const parts: string[] = [];
    for (let p = 1 + pick(5); p > 0; p--) {
      const kind = pick(5);
      if (kind === 0) parts.push(PIECES[pick(PIECES.length)]!);
      else if (kind === 1) parts.push(run(10 + pick(25)));
      else if (kind === 2) parts.push(FORMS[pick(FORMS.length)]!(NAMES[pick(NAMES.length)]!, VALUES[pick(VALUES.length)]!));
      else if (kind === 3) parts.push(`${CUES[pick(CUES.length)]} ${VALUES[pick(VALUES.length)]}`);
      else parts.push(['the', 'quick', 'message', 'burst', '42', 'level', 'info'][pick(7)]!);
    }
    out.push(parts.join(pick(2) === 0 ? ' ' : ''));
  }
  return out;
}

function corpus(): string[] {
  const strings: string[] = [];
  for (const value of ordinaryValues()) strings.push(...stringsOf(value), JSON.stringify(value));
  Object.entries(FAMILIES).forEach(([family, make], n) => {
    const secret = make();
    const { id, params } = carrierFor(family, n).request(secret, n);
    strings.push(secret, `x ${secret} y`, `(${secret})`, ...stringsOf(params), JSON.stringify({ jsonrpc: '2.0', id: id ?? n, method: 'tools/call', params }));
    strings.push(Buffer.from(`{"auth":"${secret}"}`).toString('base64'), encodeURIComponent(`key=${secret}`));
  });
  for (const name of NAMES) for (const form of FORMS) for (const value of VALUES) strings.push(form(name, value));
  for (const cue of CUES) for (const value of VALUES) strings.push(`${cue} ${value}`, `my ${cue}: ${value}!`);
  return strings;
}

/** The family forms the secret corpus does not make (each family's other alternatives), from their published formats. */
function otherForms(): string[] {
  const pick = generator(0x5eed);
  const of = (alphabet: string, length: number): string => Array.from({ length }, () => alphabet[pick(alphabet.length)]).join('');
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const hex = '0123456789abcdef';
  return [
    `-----BEGIN RSA PRIVATE KEY-----\n${of(alnum, 64)}\n-----END RSA PRIVATE KEY-----`,
    `-----BEGIN PRIVATE KEY-----${of(alnum, 40)}`,
    `"private_key_id": "${of(hex, 40)}"`,
    `https://hooks.slack.com/services/T${of(alnum, 8)}/B${of(alnum, 8)}/${of(alnum, 24)}`,
    `ATATT3${of(alnum, 180)}`,
    `ntn_${of('0123456789', 11)}${of(alnum, 35)}`,
    `secret_${of(alnum, 43)}`,
    `pplx-${of(alnum, 48)}`,
    `pscale_tkn_${of(alnum, 40)}`,
    `sbp_${of(alnum, 40)}`,
    `sb_secret_${of(alnum, 32)}`,
    `ya29.${of(alnum, 40)}`,
    `1//0${of(alnum, 45)}`,
    `EAAA${of(alnum, 60)}`,
    `glc_${of(alnum, 40)}==`,
    `AccountKey=${of(alnum, 86)}==`,
    `BEARER ${of(alnum, 20)}1`,
    `rk_test_${of(alnum, 24)}`,
    `AC${of(hex, 32)}`,
    `NRII-${of(alnum, 32)}`,
    `gho_${of(alnum, 36)}`,
    `xoxp-${of(alnum, 30)}`,
    `hvb.${of(alnum, 40)}`,
    `dapi${of(hex, 32)}-2`,
    `glrt-${of(alnum, 24)}`,
  ];
}

describe('the redaction prefilter', () => {
  it('changes nothing: text() equals the full scan on the corpus and on generated strings', () => {
    const strings = [...corpus(), ...generated(20_000)];
    let redacted = 0;
    for (const s of strings) {
      const full = redactor.scanText(s);
      if (full !== s) redacted++;
      expect(redactor.text(s), JSON.stringify(s)).toBe(full);
    }
    // The comparison means something only if many strings are redacted and many are not.
    expect(redacted).toBeGreaterThan(strings.length / 10);
    expect(strings.length - redacted).toBeGreaterThan(strings.length / 10);
  });

  it("finds each family's needed literal wherever the family's pattern matches", () => {
    // A pattern is skipped on text without its `needs` literal: sound only if no match can exist without it. The
    // patterns also run on text earlier families already redacted, so the redacted strings are checked too.
    const strings = [...corpus(), ...generated(5_000), ...otherForms().flatMap((form) => [form, `x ${form} y`, JSON.stringify({ text: `(${form})` })])];
    const checked = new Set<string>();
    for (const s of [...strings, ...strings.map((text) => redactor.scanText(text))]) {
      for (const { type, regex, needs } of SECRET_PATTERNS) {
        if (!s.match(regex)) continue;
        checked.add(type);
        expect(needs.some((literal) => s.includes(literal)), `${type}: ${JSON.stringify(s)}`).toBe(true);
      }
    }
    // Every family was met matching at least once, so none of the literals goes unchecked.
    expect([...checked].sort()).toEqual(SECRET_PATTERNS.map((p) => p.type).sort());
  });

  it('agrees on the shortest secret of every form the prefilter names', () => {
    // Each is the least the matching pattern accepts: a 15-character Slack token, a one-character URL password,
    // a DSN and a webhook by name, a percent-encoded secret name.
    const shortest = ['xoxb-1234567890', 'a://u:p@h', 'dsn=abc123', 'webhook: Zx9-Qw8_Er7', 'q=%74oken%3Da1B2c3D4e5'];
    for (const s of shortest) {
      expect(redactor.scanText(s), s).not.toBe(s);
      expect(redactor.text(s), s).toBe(redactor.scanText(s));
    }
  });
});
