import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProxyConfig, singleUpstreamRoute } from '../../collectors/http/proxyConfig.js';
import { RouteTable } from '../../collectors/http/proxyRoutes.js';
import { runCli, tempHome } from '../support/tapwireCli.js';

const dir = tempHome('tapwire-proxy-config-');
afterAll(dir.remove);

function configFile(name: string, text: string): string {
  const file = join(dir.home, name);
  writeFileSync(file, text);
  return file;
}

function loadError(text: string): string {
  const file = configFile('bad.yaml', text);
  try {
    loadProxyConfig(file);
  } catch (error) {
    return (error as Error).message.replace(file, 'FILE');
  }
  throw new Error('the configuration was accepted');
}

describe('proxy configuration files', () => {
  it('loads routes, limits, TLS files relative to the file, and defaults', () => {
    writeFileSync(join(dir.home, 'cert.pem'), 'CERT');
    writeFileSync(join(dir.home, 'key.pem'), 'KEY');
    const config = loadProxyConfig(
      configFile(
        'good.yaml',
        [
          'listen: 0.0.0.0:8443',
          'tls: { cert: cert.pem, key: key.pem }',
          'max_body_bytes: 1048576',
          'routes:',
          '  - name: github',
          '    upstream: https://api.example.com/mcp/',
          '    path: /github/',
          '  - name: local',
          '    upstream: http://127.0.0.1:3000/mcp',
          '    host: Tools.Example.COM:8443',
          '    resource: [https://tools.example.com/mcp]',
          '',
        ].join('\n'),
      ),
    );
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(config.tls?.cert.toString()).toBe('CERT');
    expect(config.maxBodyBytes).toBe(1048576);
    expect(config.upstreamTimeoutMs).toBe(120_000);
    expect(config.routes.map((r) => [r.name, r.pathPrefix, r.host, r.remote, r.resources])).toEqual([
      ['github', '/github', undefined, true, ['https://api.example.com/mcp/']],
      ['local', '/', 'tools.example.com', false, ['https://tools.example.com/mcp']],
    ]);
  });

  it('names the file, line and field of every mistake', () => {
    expect(loadError('routes:\n  - name: a\n    upstream: ftp://x/\n')).toBe('FILE:3: routes[0].upstream must be an http:// or https:// URL');
    expect(loadError('routes:\n  - name: a\n    upstream: http://x/\n    colour: blue\n')).toBe('FILE:4: routes[0].colour is not a known field');
    expect(loadError('routes:\n  - upstream: http://x/\n')).toBe('FILE:2: routes[0].name is required');
    expect(loadError('listen: 1.2.3.4\nroutes:\n  - { name: a, upstream: "http://x/" }\n')).toBe("FILE:1: listen expected HOST:PORT (e.g. 127.0.0.1:8080), got '1.2.3.4'");
    expect(loadError('max_body_bytes: -4\nroutes:\n  - { name: a, upstream: "http://x/" }\n')).toBe('FILE:1: max_body_bytes must be >= 1');
    expect(loadError('routes:\n  - { name: a, upstream: "http://x/" }\n  - { name: a, upstream: "http://y/", path: /y }\n')).toBe("FILE:3: routes[1].name 'a' is already used by routes[0]");
    expect(loadError('routes:\n  - { name: a, upstream: "http://x/" }\n  - { name: b, upstream: "http://y/" }\n')).toBe('FILE:3: routes[1].path duplicates the host and path of routes[0]');
    expect(loadError('routes:\n  - { name: a, upstream: "http://user:pw@x/" }\n')).toMatch(/^FILE:2: routes\[0\]\.upstream must not carry credentials/);
    expect(loadError('tls: { cert: missing.pem, key: key.pem }\nroutes:\n  - { name: a, upstream: "http://x/" }\n')).toMatch(/^FILE:1: tls\.cert cannot read .*missing\.pem: ENOENT$/);
    expect(loadError('routes: [\n  { name: a\n')).toMatch(/^FILE:\d+: /);
    expect(loadError('- just a list\n')).toBe('FILE:1: (document) must be a mapping with a routes list');
  });
});

describe('RouteTable', () => {
  const routes = [
    { ...singleUpstreamRoute('http://127.0.0.1:3000/mcp', 'root') },
    { ...singleUpstreamRoute('https://api.example.com/v1/mcp', 'api'), pathPrefix: '/api' },
    { ...singleUpstreamRoute('http://10.0.0.5/sse', 'hosted'), host: 'tools.example.com' },
  ];
  const table = new RouteTable(routes);

  it('routes by Host first, then by the longest path prefix, stripping the prefix', () => {
    expect(table.match('proxy:8080', '/mcp')).toMatchObject({ index: 0, upstreamTarget: '/mcp' });
    expect(table.match('proxy:8080', '/api/v1/mcp?x=1')).toMatchObject({ index: 1, upstreamTarget: '/v1/mcp?x=1' });
    expect(table.match('proxy:8080', '/api')).toMatchObject({ index: 1, upstreamTarget: '/' });
    expect(table.match('proxy:8080', '/apiary')).toMatchObject({ index: 0, upstreamTarget: '/apiary' });
    expect(table.match('TOOLS.example.com:443', '/sse')).toMatchObject({ index: 2, upstreamTarget: '/sse' });
  });

  it('routes OAuth discovery with the route path inserted (RFC 9728, RFC 8414)', () => {
    expect(table.match('proxy', '/.well-known/oauth-protected-resource/api/v1/mcp')).toMatchObject({ index: 1, upstreamTarget: '/.well-known/oauth-protected-resource/v1/mcp' });
    expect(table.match('proxy', '/.well-known/oauth-authorization-server')).toMatchObject({ index: 0, upstreamTarget: '/.well-known/oauth-authorization-server' });
  });

  it('refuses what is not a path, dot-segments, and hosts and paths no route serves', () => {
    expect(table.match('x', 'http://169.254.169.254/')).toMatchObject({ status: 400 });
    expect(table.match('x', 'evil.com:443')).toMatchObject({ status: 400 });
    expect(table.match('x', '/api/../admin')).toMatchObject({ status: 400 });
    expect(table.match('x', '/api/%2e%2E/admin')).toMatchObject({ status: 400 });
    expect(table.match('x', '/api\\..\\admin')).toMatchObject({ status: 400 });
    const hostOnly = new RouteTable([routes[2]!]);
    expect(hostOnly.match('other.example.com', '/sse')).toMatchObject({ status: 421 });
    const prefixOnly = new RouteTable([routes[1]!]);
    expect(prefixOnly.match('x', '/elsewhere')).toMatchObject({ status: 404 });
  });

  it('maps upstream URLs back to the proxy path clients use, only within the route\'s origin', () => {
    expect(table.proxyPathFor(1, new URL('https://api.example.com/messages?sessionId=1'))).toBe('/api/messages?sessionId=1');
    expect(table.proxyPathFor(0, new URL('http://127.0.0.1:3000/messages?sessionId=2'))).toBe('/messages?sessionId=2');
    expect(table.proxyPathFor(1, new URL('https://attacker.example/messages'))).toBeUndefined();
  });
});

describe('tapwire proxy command line', () => {
  it('reports usage mistakes on one line with exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['proxy', '--upstream', 'http://x/'], /missing --listen HOST:PORT/],
      [['proxy', '--listen', '127.0.0.1:0'], /missing --upstream URL or --config FILE/],
      [['proxy', '--listen', 'nowhere', '--upstream', 'http://x/'], /--listen: expected HOST:PORT/],
      [['proxy', '--listen', '127.0.0.1:0', '--upstream', 'gopher://x/'], /--upstream: must be an http or https URL/],
      [['proxy', '--listen', '127.0.0.1:0', '--upstream', 'http://x/', '--config', 'y.yaml'], /either --upstream or --config/],
      [['proxy', '--listen', '127.0.0.1:0', '--config', configFile('cli.yaml', 'routes: []\n')], /cli\.yaml:1: routes must NOT have fewer than 1 items/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
