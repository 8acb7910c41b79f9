/**
 * A corpus for measuring redaction, generated afresh by each run (no real secret is in the repository): synthetic
 * credentials of every token family Tapwire claims to catch, each planted in a carrier the way it travels in MCP
 * traffic, and ordinary values that merely look a little like secrets (key names, cue words, hashes, paths).
 */
import { randomBytes, randomInt } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const B64 = `${ALNUM}+/`;
const URLSAFE = `${ALNUM}_-`;
const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'.toUpperCase();

/** `n` random characters of `alphabet`, with at least one digit and one letter when the alphabet has both. */
function random(alphabet: string, n: number): string {
  for (;;) {
    const s = Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
    if (!/[0-9]/.test(alphabet) || !/[A-Za-z]/.test(alphabet) || (/[0-9]/.test(s) && /[A-Za-z]/.test(s))) return s;
  }
}

/** One credential of each family, freshly made. */
export const FAMILIES: Record<string, () => string> = {
  anthropic: () => `sk-ant-api03-${random(URLSAFE, 40)}`,
  openai: () => `sk-proj-${random(URLSAFE, 40)}`,
  github: () => `ghp_${random(ALNUM, 36)}`,
  github_fine_grained: () => `github_pat_${random(ALNUM, 22)}_${random(ALNUM, 59)}`,
  slack: () => `xoxb-${random('0123456789', 12)}-${random(ALNUM, 24)}`,
  stripe: () => `sk_live_${random(ALNUM, 24)}`,
  aws_access_key_id: () => `AKIA${random(UPPER_DIGITS, 16)}`,
  google_api_key: () => `AIza${random(URLSAFE, 35)}`,
  google_oauth_secret: () => `GOCSPX-${random(URLSAFE, 28)}`,
  npm: () => `npm_${random(ALNUM, 36)}`,
  gitlab: () => `glpat-${random(URLSAFE, 20)}`,
  huggingface: () => `hf_${random(LETTERS, 34)}`,
  azure_client_secret: () => `${random(ALNUM, 3)}8Q~${random(ALNUM, 34)}`,
  twilio: () => `SK${random(HEX, 32)}`,
  sendgrid: () => `SG.${random(URLSAFE, 22)}.${random(URLSAFE, 43)}`,
  databricks: () => `dapi${random(HEX, 32)}`,
  shopify: () => `shpat_${random(HEX, 32)}`,
  digitalocean: () => `dop_v1_${random(HEX, 64)}`,
  pypi: () => `pypi-AgEIcHlwaS5vcmc${random(URLSAFE, 60)}`,
  dockerhub: () => `dckr_pat_${random(URLSAFE, 27)}`,
  heroku: () => `HRKU-${random(URLSAFE, 60)}`,
  mailgun: () => `key-${random(HEX, 32)}`,
  mailchimp: () => `${random(HEX, 32)}-us${randomInt(1, 20)}`,
  linear: () => `lin_api_${random(ALNUM, 40)}`,
  postman: () => `PMAK-${random(HEX, 24)}-${random(HEX, 34)}`,
  newrelic: () => `NRAK-${random(UPPER_DIGITS, 27)}`,
  grafana: () => `glsa_${random(ALNUM, 32)}_${random(HEX, 8)}`,
  vault: () => `hvs.${random(URLSAFE, 90)}`,
  doppler: () => `dp.pt.${random(ALNUM, 43)}`,
  pulumi: () => `pul-${random(HEX, 40)}`,
  sentry: () => `sntrys_${random(B64, 60)}`,
  age: () => `AGE-SECRET-KEY-1${random(BECH32, 58)}`,
  telegram: () => `${randomInt(10_000_000, 999_999_999)}:AA${random(URLSAFE, 33)}`,
  groq: () => `gsk_${random(ALNUM, 52)}`,
  replicate: () => `r8_${random(ALNUM, 37)}`,
  figma: () => `figd_${random(URLSAFE, 40)}`,
  square: () => `sq0csp-${random(URLSAFE, 43)}`,
  rubygems: () => `rubygems_${random(HEX, 48)}`,
  jwt: () => `eyJ${random(URLSAFE, 30)}.eyJ${random(URLSAFE, 60)}.${random(URLSAFE, 43)}`,
  aws_secret_key: () => random(B64, 40),
  free_text_token: () => random(ALNUM, 28),
  url_password: () => random(ALNUM, 16),
};

/** How a secret travels: the JSON-RPC params (or id) of a request carrying it. */
export interface Carrier {
  name: string;
  /** The request line's fields (id, params) for a secret. */
  request(secret: string, n: number): { id?: string | number; params: Record<string, unknown> };
}

const call = (args: Record<string, unknown>, meta?: Record<string, unknown>) => ({ name: 'echo', arguments: args, ...(meta ? { _meta: meta } : {}) });

/** Where each family's secret is planted; families with a natural context get it, the others rotate through carriers. */
export function carrierFor(family: string, n: number): Carrier {
  if (family === 'aws_secret_key') return { name: 'aws context', request: (s) => ({ params: call({ note: `AWS credentials for the deploy user: ${s} (rotate monthly)` }) }) };
  if (family === 'free_text_token') return { name: 'cue word', request: (s) => ({ params: call({ message: `here is my token ${s} please use it` }) }) };
  if (family === 'url_password') return { name: 'URL userinfo', request: (s) => ({ params: call({ dsn: `postgres://app:${s}@db.internal:5432/main`, text: `fetch https://bot:${s}@git.example.com/repo.git` }) }) };
  const carriers: Carrier[] = [
    { name: 'argument value', request: (s) => ({ params: call({ text: `deploy with ${s} now` }) }) },
    { name: 'JSON-RPC id', request: (s) => ({ id: s, params: call({ text: 'id carries it' }) }) },
    { name: 'progress token', request: (s, i) => ({ id: i, params: call({ text: 'progress carries it' }, { progressToken: s }) }) },
    { name: 'base64 run', request: (s) => ({ params: call({ blob: Buffer.from(`{"auth":"${s}"}`).toString('base64') }) }) },
    { name: 'URL-encoded run', request: (s) => ({ params: call({ url: `https://example.com/cb?state=${encodeURIComponent(`{"key":"${s}","user":"a b"}`)}` }) }) },
  ];
  return carriers[n % carriers.length]!;
}

/** Ordinary values that must come through unchanged: names that contain secret words, cue words in prose, hashes, paths. */
export function ordinaryValues(): Record<string, unknown>[] {
  const sha = () => random(HEX, 40);
  const words = ['alpha', 'bravo', 'charlie', 'delta'];
  const templates: ((w: string, i: number) => Record<string, unknown>)[] = [
    (w) => ({ sort_key: `${w}#2024-06-01` }),
    (w, i) => ({ partition_key: `user#${i}${w}` }),
    () => ({ public_key: `ssh-ed25519 ${random(B64, 68)} me@laptop` }),
    (w) => ({ tokenizer: `${w}_cl100k_base` }),
    (w) => ({ secretary: `${w} Smith` }),
    (_w, i) => ({ tokens: 1000 + i }),
    (_w, i) => ({ max_tokens: 4096 + i, input_tokens: String(12 + i) }),
    (_w, i) => ({ text: `The token limit is ${4096 + i} tokens per request` }),
    (w) => ({ text: `Reset your password from the ${w} settings page` }),
    (w) => ({ text: `the secret to good ${w} bread is patience` }),
    (w) => ({ text: `api key rotation policy is documented in /docs/keys/${w}.md` }),
    (w) => ({ path: `/home/${w}/.ssh/config` }),
    (w) => ({ text: `token: ${w}` }),
    (w) => ({ text: `password reset link sent to ${w}@example.com` }),
    () => ({ commit: sha() }),
    () => ({ checksum: `sha256:${random(HEX, 64)}` }),
    () => ({ id: crypto.randomUUID() }),
    (w, i) => ({ url: `https://example.com/${w}/items?page=${i}&sort=desc` }),
    (w) => ({ content: Buffer.from(`hello ${w}, this is an ordinary document body`).toString('base64') }),
    (w) => ({ query: `name%3D${w}%26city%3DParis` }),
    (w) => ({ keyboard: `${w} layout`, monkey: 'business' }),
    (_w, i) => ({ token_count: i, tokenType: 'bearer' }),
    (w) => ({ progressToken: `${w}-progress-1` }),
    (w) => ({ text: `Authentication uses a bearer token; see ${w}` }),
    (w) => ({ key: `config.${w}.enabled` }),
    (w) => ({ cache_key: `v2:${w}:render` }),
    (w) => ({ primary_key: `${w}_id` }),
    (w) => ({ foreign_key: `${w}.owner_id` }),
    (w) => ({ key_name: `${w}-signing` }),
    (w) => ({ text: `Set the environment variable ${w.toUpperCase()}_API_KEY before starting` }),
    (w, i) => ({ version: `${i}.2.3-${w}.4` }),
    (w) => ({ file: `C:\\Users\\${w}\\Documents\\report.docx` }),
    (w) => ({ text: `secret santa list for the ${w} team` }),
    (w) => ({ author: `${w} <${w}@example.org>` }),
    (w, i) => ({ timestamp: `2026-0${(i % 9) + 1}-12T10:11:12Z`, tz: w }),
    () => ({ color: `#${random(HEX, 6)}` }),
    (w) => ({ regex: `^${w}[0-9]+$` }),
    (w) => ({ sql: `SELECT token_count FROM usage WHERE user = '${w}'` }),
    (w) => ({ hashtag: `#${w}2026` }),
    (w) => ({ text: `my password manager is ${w}` }),
  ];
  return templates.flatMap((template) => words.map((w, i) => template(w, i)));
}
