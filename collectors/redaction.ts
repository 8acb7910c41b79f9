/**
 * Secret redaction at the collector: secret-shaped substrings and the values of env-like keys become
 * `[REDACTED:<type>:<8 hex>]`, the hex an HMAC of the secret under a per-installation key, so one secret
 * seen twice correlates without ever leaving the machine.
 *
 * Every pattern is linear: each starts at a literal or behind a boundary look-behind (one start per
 * token run), and no quantified group contains another quantifier over overlapping characters.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PLACEHOLDER_PATTERN, SECRET_TYPES, type SecretType } from '../pipeline/redactionPlaceholders.js';



const WHOLE_PLACEHOLDER = new RegExp(`^${PLACEHOLDER_PATTERN.source}$`);

const KEY_BYTES = 32;
const MAX_VALUE_DEPTH = 512;
const RECENT_PLACEHOLDERS = 1024;
/** Keys shorter than this cannot hold any of the token formats below, so they skip the text scan. */
const MIN_SCANNED_KEY_LENGTH = 12;

/**
 * A pattern whose `secret` group (or whole match) is replaced. Order matters: the multi-line and
 * contextual forms run before the bare token formats that could match inside them.
 */
interface SecretPattern {
  type: SecretType;
  regex: RegExp;
}

const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    type: 'private_key',
    // The body stops at the next "-----", so a BEGIN without END redacts what follows it and no more.
    // Backslashes belong to the body: inside JSON text (an excerpt) its line breaks are written \n.
    regex:
      /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?:[A-Za-z0-9+/=\s:,.()\\]|-(?!----))*(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----)?/g,
  },
  { type: 'jwt', regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?/g },
  // A token has a digit or symbol somewhere, which keeps prose ("bearer instruments") out.
  { type: 'bearer_token', regex: /(?<![A-Za-z0-9_])(?<scheme>[Bb]earer|BEARER)\s{1,8}(?=[A-Za-z]*[0-9._~+/=-])(?<secret>[A-Za-z0-9._~+/=-]{8,})/g },
  { type: 'anthropic_key', regex: /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g },
  { type: 'openai_key', regex: /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}/g },
  { type: 'github_token', regex: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g },
  { type: 'slack_token', regex: /(?<![A-Za-z0-9_-])xox[a-z]-[A-Za-z0-9-]{10,}/g },
  { type: 'stripe_key', regex: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/g },
  { type: 'aws_access_key_id', regex: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/g },
  { type: 'google_api_key', regex: /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}/g },
];

/**
 * `NAME=value`, `NAME: value`, `"NAME": "value"`, `--name=value`, `--name value`: the value is redacted
 * when NAME is env-like. Catches secrets in command lines, URLs, logs and JSON that arrives as text.
 * Only the name and separator are matched here, so a non-secret candidate never swallows a later one.
 */
const ASSIGNMENT_NAME =
  /(?<![A-Za-z0-9_.-]|\[REDACTED:)(?:(?<quote>["']?)(?<name>-{0,2}[A-Za-z_][A-Za-z0-9_.-]{0,63})\k<quote>\s{0,3}[:=]\s{0,3}|(?<flag>--?[A-Za-z][A-Za-z0-9_.-]{0,63})[ \t]{1,3})/g;
/** The value after a secret name, read from where the name's match ends. */
const ASSIGNMENT_VALUE = /"(?<dq>(?:[^"\\\r\n]|\\.){1,4096})"|'(?<sq>[^'\r\n]{1,4096})'|(?<bare>[^\s"',;&{}[\]()<>]{1,4096})/y;
/** The credential after an auth scheme word (`Authorization: Basic <credential>`). */
const SCHEME_CREDENTIAL = /[ \t]{1,8}(?<credential>[^\s"',;&{}[\]()<>]{1,4096})/y;

const SECRET_NAME_PARTS = /token|secret|passw(?:or)?d|authorization|cookie|credential|api_?key|private_?key|access_?key/i;
/** Counts and limits that merely mention tokens (maxTokens, input_tokens, progressToken). */
const COUNT_NAME = /^(?:max|min|input|output|total|prompt|completion|cached|reasoning|num|used)_?tokens?$|tokens?_?(?:count|limit|used|usage|budget|type)$|^progress_?token$/i;
const NOT_SECRET_VALUES = new Set(['true', 'false', 'null', 'undefined', 'none', '']);
const AUTH_SCHEMES = /^(?:bearer|basic|digest|token|negotiate)$/i;

/** Whether a key or variable name is one whose string value is a secret (API_KEY, apiKey, password, Cookie …). */
export function isSecretName(name: string): boolean {
  const bare = name.replace(/^-{1,2}/, '').replace(/[-. ]/g, '_');
  if (COUNT_NAME.test(bare)) return false;
  if (SECRET_NAME_PARTS.test(bare)) return true;
  // *_KEY and *KEY (apiKey, APIKEY), but not "monkey" or "keyboard".
  return /_key$/i.test(bare) || /[a-z0-9]Key$/.test(bare) || /^[A-Z0-9_]*[A-Z0-9]KEY$/.test(bare) || /^(?:auth|passwd|pass)$/i.test(bare);
}

/** Replaces secrets in text and JSON values with keyed placeholders. */
export class Redactor {
  readonly #key: Buffer;
  /** Recent placeholders: one token usually repeats in every message of a session, and the HMAC dominates the cost. */
  readonly #recent = new Map<string, string>();

  /** The key is the HMAC key behind placeholders; keep it per installation and secret. */
  constructor(key: Buffer | string) {
    this.#key = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
    if (this.#key.length === 0) throw new Error('tapwire: the redaction key is empty');
  }

  /** Loads the key at `path`, or creates it there (mode 0600) with 32 random bytes. */
  static forKeyFile(path: string): Redactor {
    try {
      return new Redactor(Redactor.#readKey(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it between our read and write: use theirs, so placeholders agree.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return new Redactor(Redactor.#readKey(path));
  }

  static #readKey(path: string): Buffer {
    const key = readFileSync(path);
    if (key.length < 16) throw new Error(`${path}: redaction key is ${key.length} bytes; expected ${KEY_BYTES} (delete the file to create a new one)`);
    return key;
  }

  /** The placeholder for one secret of the given type. */
  placeholder(type: SecretType, secret: string): string {
    const cacheKey = `${type}\u0000${secret}`;
    const cached = this.#recent.get(cacheKey);
    if (cached !== undefined) return cached;
    const mac = createHmac('sha256', this.#key).update(secret, 'utf8').digest('hex').slice(0, 8);
    const placeholder = `[REDACTED:${type}:${mac}]`;
    if (this.#recent.size >= RECENT_PLACEHOLDERS) this.#recent.clear();
    this.#recent.set(cacheKey, placeholder);
    return placeholder;
  }

  /** Replaces secret-shaped substrings with placeholders. */
  text(s: string): string {
    let out = s;
    for (const { type, regex } of SECRET_PATTERNS) {
      out = out.replace(regex, (match: string, ...rest: unknown[]) => {
        const groups = namedGroups(rest);
        if (groups.secret === undefined) return this.placeholder(type, match);
        return `${groups.scheme ?? ''} ${this.placeholder(type, groups.secret)}`;
      });
    }
    return this.#assignments(out);
  }

  #assignments(s: string): string {
    let out = '';
    let done = 0;
    for (const candidate of s.matchAll(ASSIGNMENT_NAME)) {
      const { name, flag } = candidate.groups ?? {};
      const end = candidate.index + candidate[0].length;
      // A value already redacted is skipped before it is read again.
      if (candidate.index < done || !isSecretName(name ?? flag ?? '')) continue;
      ASSIGNMENT_VALUE.lastIndex = end;
      const found = ASSIGNMENT_VALUE.exec(s)?.groups;
      let value = found?.dq ?? found?.sq ?? found?.bare;
      if (value === undefined || (flag !== undefined && value.startsWith('-'))) continue;
      let start = found?.bare === undefined ? end + 1 : end;
      let type: SecretType = 'secret';
      if (found?.bare !== undefined && AUTH_SCHEMES.test(value)) {
        // `Authorization: Basic <credential>`: the scheme stays readable, the credential goes.
        SCHEME_CREDENTIAL.lastIndex = start + value.length;
        const credential = SCHEME_CREDENTIAL.exec(s);
        if (!credential?.groups?.credential) continue;
        type = /^bearer$/i.test(value) ? 'bearer_token' : 'secret';
        start = credential.index + credential[0].length - credential.groups.credential.length;
        value = credential.groups.credential;
      }
      if (NOT_SECRET_VALUES.has(value.toLowerCase()) || value.includes('[REDACTED:')) continue;
      out += s.slice(done, start) + this.placeholder(type, value);
      done = start + value.length;
    }
    return out + s.slice(done);
  }

  /** Deep copy: strings under env-like keys become placeholders, every other string goes through text(). */
  value(v: unknown): unknown {
    return this.#value(v, false, 0);
  }

  /** Redacts a process argument vector: each argument via text(), and the argument after a secret-named flag (`--token X`). */
  args(argv: readonly string[]): string[] {
    return argv.map((arg, i) => {
      const previous = i > 0 ? argv[i - 1] : undefined;
      if (previous !== undefined && /^--?[A-Za-z][\w.-]*$/.test(previous) && isSecretName(previous) && arg.length > 0) {
        return this.placeholder('secret', arg);
      }
      return this.text(arg);
    });
  }

  #value(v: unknown, secretContext: boolean, depth: number): unknown {
    if (typeof v === 'string') {
      const scanned = this.text(v);
      if (!secretContext || NOT_SECRET_VALUES.has(v.toLowerCase())) return scanned;
      // Keep a specific type (github_token …) when the whole value is one recognised secret.
      return WHOLE_PLACEHOLDER.test(scanned) ? scanned : this.placeholder('secret', v);
    }
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_VALUE_DEPTH) return '[nesting too deep]';
    if (Array.isArray(v)) return v.map((item) => this.#value(item, secretContext, depth + 1));
    const record = v as Record<string, unknown>;
    // {name: "API_KEY", value: "…"} and {key: "Authorization", value: "…"}: env lists and header lists.
    const label = typeof record.name === 'string' ? record.name : typeof record.key === 'string' ? record.key : undefined;
    const namedSecret = label !== undefined && isSecretName(label);
    // Object.fromEntries keeps a "__proto__" key as data, where assignment would set the prototype.
    return Object.fromEntries(
      Object.entries(record).map(([k, item]) => [
        k.length >= MIN_SCANNED_KEY_LENGTH ? this.text(k) : k,
        this.#value(item, isSecretName(k) || (namedSecret && k === 'value'), depth + 1),
      ]),
    );
  }
}

/** The named groups of a String.replace callback's trailing arguments (empty when the pattern has none). */
function namedGroups(rest: unknown[]): Record<string, string | undefined> {
  const last = rest[rest.length - 1];
  return typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : {};
}
