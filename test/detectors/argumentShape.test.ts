import { describe, expect, it } from 'vitest';
import { argumentShape, pathRoot, urlHosts } from '../../detectors/usage/argumentShape.js';

describe('argument shapes', () => {
  it('finds the root of every kind of path, and none in words, identifiers or text', () => {
    expect(pathRoot('/home/alice/notes/a.md', 2)).toBe('/home/alice');
    expect(pathRoot('~/.ssh/id_rsa', 2)).toBe('~/.ssh');
    expect(pathRoot('../../etc/passwd', 2)).toBe('../..');
    expect(pathRoot('./src/index.ts', 2)).toBe('src');
    expect(pathRoot('C:\\Users\\Bob\\x.txt', 2)).toBe('c:/users/bob');
    expect(pathRoot('File:///tmp/cache/a.txt', 2)).toBe('/tmp/cache');
    // Whitespace around a path does not hide it.
    expect(pathRoot('  /srv/data/x.csv\t', 2)).toBe('/srv/data');
    expect(pathRoot('\u00a0/srv/data/x.csv', 2)).toBe('/srv/data');
    for (const value of ['notes.md', 'hello world', 'f', 'file', 'c', 'c:', 'SELECT * FROM t', '42', '', ' ', 'données/a/b', 'https://example.com/a/b']) {
      expect(pathRoot(value, 2), value).toBeUndefined();
    }
  });

  it('lists the hosts of URLs in a string, and none without one', () => {
    expect(urlHosts('see https://Example.COM/x and ftp://files.example.org/y')).toEqual(['example.com', 'files.example.org']);
    expect(urlHosts('file:///etc/passwd')).toEqual([]);
    expect(urlHosts('no link here: example.com/x')).toEqual([]);
  });

  it('shapes nested arguments: keys, hosts, roots and longest strings', () => {
    const shape = argumentShape({ path: '/home/alice/a.md', opts: { url: 'see https://api.example.com/v1', tags: ['x', 'longer'] } }, 2);
    expect(shape).toEqual({
      keys: ['path', 'opts', 'opts.url', 'opts.tags'],
      hosts: ['api.example.com'],
      pathRoots: ['/home/alice'],
      lengths: { path: 16, 'opts.url': 30, 'opts.tags[]': 6 },
    });
  });
});
