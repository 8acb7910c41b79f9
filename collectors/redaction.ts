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
import { PLACEHOLDER_PATTERN, type SecretType } from '../pipeline/redactionPlaceholders.js';
import { AsciiBigrams, literalLeads } from './asciiBigrams.js';
import { setJsonProperty } from './jsonProperty.js';
import { SECRET_PATTERNS } from './secretPatterns.js';

/** Each family with the leads of its needed literals: see asciiBigrams.ts. */
const GATED_PATTERNS = SECRET_PATTERNS.map((pattern) => ({ ...pattern, leads: literalLeads(pattern.needs) }));

const WHOLE_PLACEHOLDER = new RegExp(`^${PLACEHOLDER_PATTERN.source}$`);

const KEY_BYTES = 32;
const MAX_VALUE_DEPTH = 512;
const RECENT_PLACEHOLDERS = 1024;
/** Keys shorter than this cannot hold any of the token formats, so they skip the text scan. */
const MIN_SCANNED_KEY_LENGTH = 12;
/** Strings shorter than this hold no secret worth a scan ("a=bcdefgh" is the shortest assignment that redacts). */
const MIN_SCANNED_LENGTH = 6;

/**
 * `NAME=value`, `NAME: value`, `"NAME": "value"`, `--name=value`, `--name value`: the value is redacted
 * when NAME is env-like. Catches secrets in command lines, URLs, logs and JSON that arrives as text.
 * Only the name and separator are matched here, so a non-secret candidate never swallows a later one.
 */
const ASSIGNMENT_NAME =
  /(?<![A-Za-z0-9_.-]|\[REDACTED:)(?:(?<quote>["']?)(?<name>-{0,2}[A-Za-z_][A-Za-z0-9_.-]{0,63})\k<quote>\s{0,3}[:=]\s{0,3}|(?<flag>--?[A-Za-z][A-Za-z0-9_.-]{0,63})[ \t]{1,3})/g;
const ASSIGNMENT_SEPARATOR = /[:=-]/;
/** The value after a secret name, read from where the name's match ends. */
const ASSIGNMENT_VALUE = /"(?<dq>(?:[^"\\\r\n]|\\.){1,4096})"|'(?<sq>[^'\r\n]{1,4096})'|(?<bare>[^\s"',;&{}[\]()<>]{1,4096})/y;
/** The credential after an auth scheme word (`Authorization: Basic <credential>`). */
const SCHEME_CREDENTIAL = /[ \t]{1,8}(?<credential>[^\s"',;&{}[\]()<>]{1,4096})/y;

/** Words that make a key name secret on their own (`refresh_token`, `x-api-key`'s apikey, `Cookie`). */
const SECRET_WORDS = new Set(['token', 'secret', 'password', 'passwd', 'passphrase', 'authorization', 'cookie', 'credential', 'credentials', 'apikey', 'privatekey', 'accesskey', 'secretkey', 'auth', 'pass', 'sessionid', 'dsn', 'webhook']);
/** Words that make a following `key` secret (`api_key`, `access-key`, `private_key`), where `sort_key` and `public_key` are not. */
const KEY_QUALIFIERS = new Set(['api', 'access', 'private', 'secret', 'signing', 'encryption', 'master', 'account', 'auth', 'client', 'license', 'service', 'app', 'subscription', 'admin', 'write', 'deploy', 'storage', 'shared', 'hmac', 'session', 'ssh', 'gpg', 'pgp', 'rsa', 'ed25519', 'ecdsa']);
/** A last word that makes the name about a secret rather than the secret (`token_count`, `password_url`, `progressToken`). */
const ABOUT_WORDS = new Set(['count', 'counts', 'limit', 'limits', 'used', 'usage', 'budget', 'type', 'types', 'length', 'size', 'index', 'name', 'url', 'uri', 'endpoint', 'expiry', 'expires', 'expiration', 'ttl', 'file', 'path', 'id', 'ids', 'hint', 'policy', 'required', 'set', 'enabled', 'header', 'field', 'param', 'prefix', 'format', 'kind', 'scope', 'scopes']);
/** Token counts and progress tokens: `max_tokens`, `input_tokens`, `progressToken`. */
const COUNT_FIRST_WORDS = new Set(['max', 'min', 'input', 'output', 'total', 'prompt', 'completion', 'cached', 'reasoning', 'num', 'progress', 'next', 'page', 'continuation', 'cancellation', 'csrf', 'xsrf']);
const NOT_SECRET_VALUES = new Set(['true', 'false', 'null', 'undefined', 'none', '']);
const AUTH_SCHEMES = /^(?:bearer|basic|digest|token|negotiate)$/i;

/** The lower-case words of a key: camelCase, snake_case, kebab-case, dotted and spaced names alike. */
function keyWords(name: string): string[] {
  return name
    .replace(/^-{1,2}/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * Whether a key or variable name is one whose string value is a secret (API_KEY, apiKey, x-api-key, password, Cookie …).
 * Whole words decide, never substrings: `sort_key`, `public_key`, `tokenizer`, `secretary` and `max_tokens` are not.
 */
export function isSecretName(name: string): boolean {
  let known = SECRET_NAME_VERDICTS.get(name);
  if (known === undefined) {
    known = judgeName(name);
    // The same few keys recur in every message; a name space past the bound starts afresh.
    if (SECRET_NAME_VERDICTS.size >= NAME_VERDICTS) SECRET_NAME_VERDICTS.clear();
    SECRET_NAME_VERDICTS.set(name, known);
  }
  return known;
}

const NAME_VERDICTS = 4096;
const SECRET_NAME_VERDICTS = new Map<string, boolean>();

function judgeName(name: string): boolean {
  const words = keyWords(name);
  if (words.length === 0) return false;
  const last = words.at(-1)!;
  if (words.length > 1 && ABOUT_WORDS.has(last)) return false;
  if (COUNT_FIRST_WORDS.has(words[0]!) && /^tokens?$/.test(last)) return false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (SECRET_WORDS.has(word)) return true;
    if ((word === 'key' || word === 'keys') && i > 0 && KEY_QUALIFIERS.has(words[i - 1]!)) return true;
  }
  // APIKEY, OPENAI_APIKEY, SECRETKEY written as one word.
  return /(?:api|access|secret|private)key$/.test(last);
}

/** Replaces secrets in text and JSON values with keyed placeholders. */
export class Redactor {
  readonly #key: Buffer;
  /** Recent placeholders: one token usually repeats in every message of a session, and the HMAC dominates the cost. */
  readonly #recent = new Map<string, string>();
  readonly #bigrams = new AsciiBigrams();

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

  /**
   * Replaces secrets in text with placeholders: known token shapes, URL passwords, AWS secret keys beside AWS
   * context, secret-looking values after a cue word, the values of secret-named assignments, and base64 or
   * URL-encoded runs that decode to any of these.
   */
  text(s: string): string {
    if (s.length < MIN_SCANNED_LENGTH || !(holdsTokenRun(s) || MAY_HOLD_SECRET.test(s))) return s;
    return this.scanText(s);
  }

  /**
   * text() without its prefilter: every pattern run on `s`. text() must always agree with it (the prefilter only
   * skips strings no pattern can match); test/collectors/redactionPrefilter.test.ts holds it to that.
   */
  scanText(s: string): string {
    if (s.length < MIN_SCANNED_LENGTH) return s;
    return this.#encodedRuns(this.#scan(s));
  }

  #scan(s: string): string {
    let out = s;
    for (const { type, regex, needs, leads } of GATED_PATTERNS) {
      // Marks again only when an earlier family's placeholders changed the text.
      this.#bigrams.mark(out);
      if (!this.#bigrams.holdsAny(leads) || !includesAny(out, needs)) continue;
      out = out.replace(regex, (match: string, ...rest: unknown[]) => {
        const groups = namedGroups(rest);
        if (groups.secret === undefined) return this.placeholder(type, match);
        return `${groups.scheme === undefined ? '' : `${groups.scheme} `}${this.placeholder(type, groups.secret)}`;
      });
    }
    if (AWS_CONTEXT.test(out)) out = out.replace(AWS_SECRET_KEY, (match) => (hasMixedClasses(match, 3) ? this.placeholder('aws_secret_key', match) : match));
    out = out.replace(CUED_VALUE, (match: string, ...rest: unknown[]) => {
      const { cue, value } = namedGroups(rest);
      if (value === undefined || cue === undefined || !looksLikeSecret(value)) return match;
      return `${match.slice(0, match.length - value.length)}${this.placeholder(/bearer/i.test(cue) ? 'bearer_token' : 'secret', value)}`;
    });
    return this.#assignments(out);
  }

  /** A base64 or URL-encoded run whose decoded text holds a secret becomes one placeholder. */
  #encodedRuns(s: string): string {
    let out = s.replace(BASE64_RUN, (run) => {
      const decoded = decodeBase64Text(run);
      return decoded !== undefined && this.#scan(decoded) !== decoded ? this.placeholder('encoded_secret', run) : run;
    });
    if (out.includes('%')) {
      out = out.replace(URL_ENCODED_RUN, (run) => {
        const decoded = decodePercent(run);
        return decoded !== undefined && decoded !== run && this.#scan(decoded) !== decoded ? this.placeholder('encoded_secret', run) : run;
      });
    }
    return out;
  }

  #assignments(s: string): string {
    // Every candidate holds its separator (":" or "=") or its flag's "-": text without any has none to walk through.
    if (!ASSIGNMENT_SEPARATOR.test(s)) return s;
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
      // Prose ("token: alpha"): a lower-case cue word, unquoted, before one plain word is not an assignment of a secret.
      if (candidate.groups?.quote === '' && /^[a-z]+$/.test(name ?? '') && found?.bare !== undefined && /^[A-Za-z]+$/.test(value)) continue;
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
    const copy: Record<string, unknown> = {};
    for (const k of Object.keys(record)) {
      setJsonProperty(copy, k.length >= MIN_SCANNED_KEY_LENGTH ? this.text(k) : k, this.#value(record[k], isSecretName(k) || (namedSecret && k === 'value'), depth + 1));
    }
    return copy;
  }
}

/**
 * What any redaction of text needs, so that a string without it can skip the ~50 patterns: each pattern starts at
 * one of these literals (a cue word, the first word of a secret name, "://", "-----BEGIN", "eyJ", "%"), or
 * matches a run of at least 15 token characters (the shortest family, a Slack token, is 15; base64 runs are 24).
 * Secret names are ASCII words, and each word of a name is a substring of it, so a case-insensitive literal finds
 * every name isSecretName accepts. The runs are found by holdsTokenRun.
 */
const MAY_HOLD_SECRET = /:\/\/|-----|eyj|bearer|token|api|secret|pass|auth|cookie|credential|access|key|sessionid|dsn|webhook|%/i;
const TOKEN_RUN_LENGTH = 15;
/** The token characters, [A-Za-z0-9_.~+/=:-], by character code. */
const TOKEN_CHARACTERS = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~+/=:-') TOKEN_CHARACTERS[c.charCodeAt(0)] = 1;

/**
 * Whether the text holds a run of TOKEN_RUN_LENGTH token characters. What /[…]{15}/ answers, in one pass: the regex
 * walked each word of 1 KiB of prose once per position in it (~12 µs, most of the redaction of a tool call).
 */
function holdsTokenRun(s: string): boolean {
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && TOKEN_CHARACTERS[c] === 1) {
      if (++run === TOKEN_RUN_LENGTH) return true;
    } else run = 0;
  }
  return false;
}

/** Text that puts a bare 40-character base64 run in AWS context. */
const AWS_CONTEXT = /aws|amazon|\[REDACTED:aws_access_key_id:|AKIA|ASIA/i;
const AWS_SECRET_KEY = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
/**
 * A cue word, then (after `:`, `=`, `is` or only spaces) one run without spaces: redacted only when it looks like a
 * secret, so "token limit reached" and "password reset" stay readable.
 */
const CUED_VALUE =
  /(?<![A-Za-z0-9_])(?<cue>bearer|token|api[ _-]?key|apikey|secret|password|passwd|passphrase|credentials?|access[ _-]?key|auth)s?(?:[ \t]{0,3}(?:[:=]|\bis\b|\bwas\b)[ \t]{0,3}|[ \t]{1,3})(?<value>[^\s"'<>,;()[\]{}]{8,512})/gi;
const BASE64_RUN = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{24,8192}={0,2}(?![A-Za-z0-9+/=_-])/g;
const URL_ENCODED_RUN = /[^\s"'<>]{0,2048}%[0-9A-Fa-f]{2}[^\s"'<>]{0,2048}/g;

function includesAny(text: string, literals: readonly string[]): boolean {
  for (const literal of literals) if (text.includes(literal)) return true;
  return false;
}

/** Whether a run has at least `classes` of: lower case, upper case, digits, symbols. */
function hasMixedClasses(s: string, classes: number): boolean {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(s)).length >= classes;
}

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / s.length) * Math.log2(n / s.length);
  return bits;
}

/** A value after a cue word that is shaped like a credential: mixed characters, high entropy, not a path, URL, number or placeholder. */
function looksLikeSecret(value: string): boolean {
  if (value.includes('[REDACTED:') || /^(?:[./~]|[A-Za-z]:\\|[a-z][a-z0-9+.-]*:\/\/)/.test(value) || /^[\d.,:-]+$/.test(value)) return false;
  if (/^[a-z]+(?:[-_][a-z]+)*$/i.test(value) && !hasMixedClasses(value, 2)) return false;
  return hasMixedClasses(value, 2) && entropy(value) >= 3;
}

/** The text a base64 (or base64url) run decodes to, if it is text; undefined for binary. */
function decodeBase64Text(run: string): string | undefined {
  const bytes = Buffer.from(run, run.includes('-') || run.includes('_') ? 'base64url' : 'base64');
  if (bytes.length < 12) return undefined;
  let unprintable = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09) continue;
    // Binary is told from text by its first few bytes: a long run need not be walked to the end.
    if ((bytes.length - ++unprintable) / bytes.length < 0.95) return undefined;
  }
  return bytes.toString('latin1');
}

function decodePercent(run: string): string | undefined {
  try {
    return decodeURIComponent(run.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The named groups of a String.replace callback's trailing arguments (empty when the pattern has none). */
function namedGroups(rest: unknown[]): Record<string, string | undefined> {
  const last = rest[rest.length - 1];
  return typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : {};
}
