import { describe, expect, it } from 'vitest';
import { discoveryKind, observeAuthorization, observeChallenge, parseChallenges, unverifiedJwtClaims } from '../../collectors/http/authObservation.js';
import { audienceMatches, credentialQueryParameters, isLoopbackHost } from '../../collectors/http/postureChecks.js';
import { Redactor } from '../../collectors/redaction.js';

const redactor = new Redactor('auth-test-key');
const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('Authorization headers', () => {
  it('keeps the scheme and a keyed hash that matches the redaction placeholders of the same token', () => {
    const auth = observeAuthorization('Bearer opaque-token-0123456789', redactor);
    expect(auth).toEqual({ scheme: 'bearer', token_hash: expect.stringMatching(/^[0-9a-f]{8}$/), token_format: 'opaque' });
    expect(redactor.text('Authorization: Bearer opaque-token-0123456789')).toContain(auth.token_hash);
    expect(JSON.stringify(auth)).not.toContain('opaque-token');
    expect(observeAuthorization('Basic dXNlcjpwYXNz', redactor)).toEqual({ scheme: 'basic', token_hash: expect.stringMatching(/^[0-9a-f]{8}$/) });
    expect(observeAuthorization('Bearer', redactor)).toEqual({ scheme: 'bearer' });
  });

  it('decodes JWT claims without verifying them, tolerating odd shapes', () => {
    const token = `${encode({ alg: 'none' })}.${encode({ iss: 'i', aud: 'a', sub: 's', scp: ['x', 'y'], exp: 1.7e9 + 0.5, extra: 'ignored' })}.`;
    expect(unverifiedJwtClaims(token)).toEqual({ iss: 'i', aud: ['a'], sub: 's', scope: 'x y', exp: 1.7e9 });
    expect(unverifiedJwtClaims(`${encode({ alg: 'none' })}.${encode({ aud: [1, 'b'], iss: 'x'.repeat(5000) })}.sig`)).toEqual({ aud: ['b'], iss: 'x'.repeat(512) });
    expect(unverifiedJwtClaims('eyJhbGciOiJub25lIn0.bm90IGpzb24.sig')).toBeUndefined();
    expect(unverifiedJwtClaims('not.a.jwt')).toBeUndefined();
  });
});

describe('WWW-Authenticate challenges', () => {
  it('parses several challenges with quoted, escaped and token values, and token68 credentials', () => {
    const parsed = parseChallenges('Negotiate abc==, Basic realm="a, \\"b\\"", Bearer error=invalid_token, resource_metadata="https://r/.well-known/oauth-protected-resource", scope="a b"');
    expect(parsed.map((c) => [c.scheme, Object.fromEntries(c.params)])).toEqual([
      ['negotiate', {}],
      ['basic', { realm: 'a, "b"' }],
      ['bearer', { error: 'invalid_token', resource_metadata: 'https://r/.well-known/oauth-protected-resource', scope: 'a b' }],
    ]);
  });

  it('prefers the Bearer challenge and keeps its MCP-relevant parameters', () => {
    expect(observeChallenge(401, 'Basic realm="x", Bearer realm="mcp", scope="files:read"')).toEqual({ status: 401, scheme: 'bearer', realm: 'mcp', scope: 'files:read' });
    expect(observeChallenge(401, undefined)).toEqual({ status: 401 });
  });

  it('recognises OAuth discovery paths, with a path inserted', () => {
    expect(discoveryKind('/.well-known/oauth-protected-resource')).toBe('protected_resource');
    expect(discoveryKind('/.well-known/oauth-protected-resource/mcp')).toBe('protected_resource');
    expect(discoveryKind('/.well-known/oauth-authorization-server/tenant')).toBe('authorization_server');
    expect(discoveryKind('/tenant/.well-known/openid-configuration')).toBe('openid_configuration');
    expect(discoveryKind('/.well-known/oauth-protected-resourcex')).toBeUndefined();
  });
});

describe('posture facts', () => {
  it('knows loopback hosts', () => {
    for (const host of ['localhost', 'api.localhost', '127.0.0.1', '127.8.9.1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['10.0.0.1', 'example.com', '[2001:db8::1]', '0.0.0.0', 'localhost.example.com']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('matches audiences against canonical resource URLs', () => {
    expect(audienceMatches(['HTTPS://MCP.example.com:443/mcp/'], ['https://mcp.example.com/mcp'])).toBe(true);
    expect(audienceMatches(['https://mcp.example.com'], ['https://mcp.example.com/mcp'])).toBe(false);
    expect(audienceMatches(['not a url', 'https://b/x'], ['https://a/x', 'https://b/x'])).toBe(true);
    expect(audienceMatches([], ['https://a/x'])).toBe(false);
  });

  it('finds credentials in query strings by name or by shape', () => {
    expect(credentialQueryParameters('sessionId=1&access_token=abc&apiKey=k&key=v&q=eyJhbGciOi.eyJzdWIiOi.x&empty_token=')).toEqual(['access_token', 'apiKey', 'key', 'q']);
    expect(credentialQueryParameters('sessionId=1&page=2')).toEqual([]);
  });
});
