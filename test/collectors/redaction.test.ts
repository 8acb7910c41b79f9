import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSecretName, Redactor } from '../../collectors/redaction.js';
import { SECRET_TYPES, type SecretType } from '../../pipeline/redactionPlaceholders.js';

const redactor = new Redactor('redaction-test-key');
const placeholderOf = (type: SecretType) => new RegExp(`\\[REDACTED:${type}:[0-9a-f]{8}\\]`);

// Built from parts so that no literal secret-shaped string sits in the repository.
const jwt = ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9', 'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ', 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'].join('.');
const pem = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA7bq', 'Proc-Type: 4,ENCRYPTED', 'abc+/=', '-----END RSA PRIVATE KEY-----'].join('\n');
const SAMPLES: Partial<Record<SecretType, string>> = {
  jwt,
  private_key: pem,
  aws_access_key_id: 'AKIA' + 'IOSFODNN7EXAMPLE',
  github_token: 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
  slack_token: 'xoxb-' + '1234567890-abcdefghijkl',
  stripe_key: 'sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc',
  openai_key: 'sk-proj-' + 'abcdefghijklmnopqrstuvwxyz012345',
  anthropic_key: 'sk-ant-' + 'api03-abcdefghijklmnopqrstuvwxyz',
  google_api_key: 'AIza' + 'SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q',
};

describe('Redactor.text', () => {
  it.each(Object.entries(SAMPLES))('replaces a %s with its typed placeholder', (type, secret) => {
    const out = redactor.text(`before ${secret} after`);
    expect(out).toMatch(new RegExp(`^before ${placeholderOf(type as SecretType).source} after$`));
    expect(out).not.toContain(secret);
  });

  // Mutation check (issue 10): with free-text Bearer redaction removed (the bearer_token row of secretPatterns.ts
  // and the bearer cue of CUED_VALUE), this test fails; "Authorization: Bearer …" alone did not notice, because the
  // assignment rule redacts the credential after an Authorization name anyway.
  it('redacts a Bearer token in free text, away from any Authorization name', () => {
    const token = 'Zx9' + '-abc.def_1234567';
    const out = redactor.text(`curl -H "X-Forwarded: Bearer ${token}" then retry; or just Bearer ${token}!`);
    expect(out).not.toContain(token);
    expect(out.match(/Bearer \[REDACTED:bearer_token:[0-9a-f]{8}\]/g)).toHaveLength(2);
    // Prose after the word stays.
    expect(redactor.text('bearer instruments are negotiable')).toBe('bearer instruments are negotiable');
  });

  it('keeps the Bearer scheme and replaces the token', () => {
    const out = redactor.text('Authorization: Bearer abc.def-123_XYZ~+/=');
    expect(out).toMatch(/^Authorization: Bearer \[REDACTED:bearer_token:[0-9a-f]{8}\]$/);
  });

  it('redacts a PEM key written inside JSON text, escaped line breaks and all', () => {
    const out = redactor.text(JSON.stringify({ key: pem, next: 'visible' }));
    expect(out).toMatch(/^\{"key":"\[REDACTED:private_key:[0-9a-f]{8}\]","next":"visible"\}$/);
  });

  it('redacts a PEM key cut before its END line, and only the key', () => {
    const out = redactor.text('key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----BEGIN CERTIFICATE-----');
    expect(out).toMatch(/^key: \[REDACTED:private_key:[0-9a-f]{8}\]-----BEGIN CERTIFICATE-----$/);
  });

  it('redacts the values of env-like names in assignments, JSON text, URLs and flags', () => {
    const cases: [string, RegExp][] = [
      ['OPENAI_API_KEY=abc123def', /^OPENAI_API_KEY=\[REDACTED:secret:[0-9a-f]{8}\]$/],
      ['export GITHUB_TOKEN=xyz987', /^export GITHUB_TOKEN=\[REDACTED:secret:[0-9a-f]{8}\]$/],
      ['{"password": "correct horse battery"}', /^\{"password": "\[REDACTED:secret:[0-9a-f]{8}\]"\}$/],
      ["db_passwd='p@ss w0rd'", /^db_passwd='\[REDACTED:secret:[0-9a-f]{8}\]'$/],
      ['https://api.example.com/v1?access_token=tok123&page=2', /\?access_token=\[REDACTED:secret:[0-9a-f]{8}\]&page=2$/],
      ['--api-key=k-1234', /^--api-key=\[REDACTED:secret:[0-9a-f]{8}\]$/],
      ['node server.js --client-secret s3cr3t --port 8080', /--client-secret \[REDACTED:secret:[0-9a-f]{8}\] --port 8080$/],
      ['Cookie: session=abc123', /^Cookie: \[REDACTED:secret:[0-9a-f]{8}\]$/],
      ['Authorization: Basic dXNlcjpwYXNzd29yZA==', /^Authorization: Basic \[REDACTED:secret:[0-9a-f]{8}\]$/],
      ['authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l', /^authorization: Basic \[REDACTED:secret:[0-9a-f]{8}\]$/],
      ['Authorization: Bearer abcdefghijkl', /^Authorization: Bearer \[REDACTED:bearer_token:[0-9a-f]{8}\]$/],
    ];
    for (const [input, expected] of cases) expect(redactor.text(input), input).toMatch(expected);
  });

  it('leaves counts, prose and ordinary assignments alone', () => {
    const untouched = [
      'max_tokens: 1024',
      'maxTokens=4096 inputTokens=12 progressToken: 7',
      'The token limit is reached when keys rotate.',
      'https://example.com/search?q=mcp&page=2',
      'name=filesystem version=1.2.3',
      'password: null',
      'sk-short',
      'monkey=banana keyboard=qwerty',
      'Basic authentication and bearer instruments are explained below.',
    ];
    for (const s of untouched) expect(redactor.text(s), s).toBe(s);
  });

  it('gives one secret one placeholder, and another key another placeholder', () => {
    const secret = SAMPLES.github_token!;
    const a = redactor.text(`first ${secret}`).slice(6);
    const b = redactor.text(`${secret} again`).slice(0, -6);
    expect(a).toBe(b);
    expect(new Redactor('another-key').text(secret)).not.toBe(a);
    expect(redactor.text(SAMPLES.stripe_key!)).not.toBe(a);
  });

  it('is idempotent: placeholders are not redacted again', () => {
    const once = redactor.text(`token=${SAMPLES.openai_key} Bearer ${jwt} ${pem}`);
    expect(redactor.text(once)).toBe(once);
  });

  it('finishes on 1 MB adversarial inputs for every pattern', () => {
    const MB = 1 << 20;
    const adversarial = [
      'eyJ'.repeat(MB / 3),
      'eyJa.'.repeat(MB / 5),
      '-----BEGIN PRIVATE KEY-----'.repeat(MB / 27),
      `-----BEGIN PRIVATE KEY-----${'A'.repeat(MB)}`,
      'Bearer '.repeat(MB / 7),
      `Bearer ${'a'.repeat(MB)}`,
      'sk-'.repeat(MB / 3),
      'sk-ant-'.repeat(MB / 7),
      'ghp_'.repeat(MB / 4),
      'xoxb-'.repeat(MB / 5),
      'AKIA'.repeat(MB / 4),
      'AIza'.repeat(MB / 4),
      'a'.repeat(MB),
      'a.'.repeat(MB / 2),
      'token:"'.repeat(MB / 7),
      `password:"${'\\x'.repeat(MB / 2)}`,
      'a=a='.repeat(MB / 4),
      '--token '.repeat(MB / 8),
      '-'.repeat(MB),
    ];
    for (const input of adversarial) expect(typeof redactor.text(input)).toBe('string');
  });
});

describe('Redactor.value', () => {
  it('redacts string values under env-like keys, deeply, and scans every other string', () => {
    const input = {
      env: { GITHUB_TOKEN: SAMPLES.github_token, DB_PASSWORD: 'hunter2', HOME: '/home/me', PWD: '/tmp' },
      headers: { Authorization: 'Bearer abcdefgh12345', cookie: 'sid=1', 'X-Api-Key': 'k', accept: 'application/json' },
      apiKey: 'abc',
      api_key: 'abc',
      privateKey: 'pk',
      client_secret: 'cs',
      credentials: ['one', 'two'],
      max_tokens: 100,
      maxTokens: '100',
      inputTokens: 5,
      note: `use ${SAMPLES.aws_access_key_id} here`,
      list: [{ name: 'SLACK_TOKEN', value: 'plain' }, { name: 'REGION', value: 'eu-west-1' }],
      empty: { password: '' },
    };
    const out = redactor.value(input) as typeof input;
    expect(out.env.GITHUB_TOKEN).toMatch(/^\[REDACTED:github_token:/);
    expect(out.env.DB_PASSWORD).toMatch(/^\[REDACTED:secret:/);
    expect(out.env.HOME).toBe('/home/me');
    expect(out.env.PWD).toBe('/tmp');
    expect(out.headers.Authorization).toMatch(/^\[REDACTED:secret:/);
    expect(out.headers.cookie).toMatch(/^\[REDACTED:secret:/);
    expect(out.headers['X-Api-Key']).toMatch(/^\[REDACTED:secret:/);
    expect(out.headers.accept).toBe('application/json');
    for (const v of [out.apiKey, out.api_key, out.privateKey, out.client_secret, ...out.credentials]) expect(v).toMatch(/^\[REDACTED:secret:/);
    expect(out.api_key).toBe(out.apiKey);
    expect(out.max_tokens).toBe(100);
    expect(out.maxTokens).toBe('100');
    expect(out.inputTokens).toBe(5);
    expect(out.note).toMatch(/^use \[REDACTED:aws_access_key_id:[0-9a-f]{8}\] here$/);
    expect(out.list[0]?.value).toMatch(/^\[REDACTED:secret:/);
    expect(out.list[1]?.value).toBe('eu-west-1');
    expect(out.empty.password).toBe('');
    expect(input.env.DB_PASSWORD).toBe('hunter2');
  });

  it('keeps schemas readable: only string values sit under secret keys', () => {
    const schema = { type: 'object', properties: { api_key: { type: 'string', description: 'Your key' } }, required: ['api_key'] };
    expect(redactor.value(schema)).toEqual(schema);
  });
});

describe('Redactor.args', () => {
  it('redacts the value after a secret-named flag and scans the rest', () => {
    const out = redactor.args(['server.js', '--api-key', 'abc', '--port', '8080', `--token=${'x'.repeat(4)}`, 'GITHUB_TOKEN=ghx']);
    expect(out[0]).toBe('server.js');
    expect(out[2]).toMatch(/^\[REDACTED:secret:/);
    expect(out.slice(3, 5)).toEqual(['--port', '8080']);
    expect(out[5]).toMatch(/^--token=\[REDACTED:secret:/);
    expect(out[6]).toMatch(/^GITHUB_TOKEN=\[REDACTED:secret:/);
  });
});

describe('isSecretName', () => {
  it('knows secret names from counters and look-alikes', () => {
    for (const n of ['API_KEY', 'apiKey', 'api-key', 'APIKEY', 'x-api-key', 'access_token', 'GITHUB_TOKEN', 'client_secret', 'PASSWORD', 'passwd', 'Authorization', 'Set-Cookie', 'credentials', 'ssh_key']) {
      expect(isSecretName(n), n).toBe(true);
    }
    for (const n of ['maxTokens', 'max_tokens', 'inputTokens', 'output_tokens', 'token_count', 'progressToken', 'monkey', 'keyboard', 'keys', 'PWD', 'name', 'description']) {
      expect(isSecretName(n), n).toBe(false);
    }
  });
});

describe('Redactor keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwire-redaction-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a 32-byte key file with mode 0600 and reuses it', () => {
    const path = join(dir, 'home', 'redaction.key');
    const first = Redactor.forKeyFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path)).toHaveLength(32);
    const again = Redactor.forKeyFile(path);
    expect(again.text('password=x1')).toBe(first.text('password=x1'));
    expect(new Redactor(readFileSync(path)).text('password=x1')).toBe(first.text('password=x1'));
  });

  it('refuses a key file too short to be a key, naming the file', () => {
    const path = join(dir, 'short.key');
    writeFileSync(path, 'abc');
    expect(() => Redactor.forKeyFile(path)).toThrow(`${path}: redaction key is 3 bytes`);
    expect(() => new Redactor('')).toThrow(/empty/);
  });

  it('exports the placeholder types as a contract', () => {
    // Rules match on these names: a type may be added, never renamed or removed.
    expect(SECRET_TYPES.slice(0, 11)).toEqual(['jwt', 'bearer_token', 'private_key', 'aws_access_key_id', 'github_token', 'slack_token', 'stripe_key', 'openai_key', 'anthropic_key', 'google_api_key', 'secret']);
    expect(new Set(SECRET_TYPES).size).toBe(SECRET_TYPES.length);
  });
});
