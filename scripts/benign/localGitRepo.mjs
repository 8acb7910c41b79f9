// A small local git repository with a real-looking history (documentation added and amended package by package)
// for git servers to report on. Fixed author and dates make every commit hash identical from run to run.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const COMMITTER = { name: 'Tapwire Capture', email: 'capture@example.invalid' };
const FIRST_COMMIT = Date.parse('2026-01-05T09:00:00Z') / 1000;
const PACKAGES = 12;

/** Rebuilds `root` from the local library; returns { root, files: [paths relative to root] }. */
export function buildLocalGitRepo(root, library) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  let commits = 0;
  const git = (...args) => {
    const when = `${FIRST_COMMIT + commits * 5400} +0000`;
    return execFileSync('git', args, {
      cwd: root,
      env: {
        PATH: process.env.PATH, HOME: root, GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: COMMITTER.name, GIT_AUTHOR_EMAIL: COMMITTER.email, GIT_AUTHOR_DATE: when,
        GIT_COMMITTER_NAME: COMMITTER.name, GIT_COMMITTER_EMAIL: COMMITTER.email, GIT_COMMITTER_DATE: when,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  };
  const commit = (message) => {
    git('commit', '-q', '-m', message);
    commits++;
  };
  git('init', '-q', '-b', 'main');
  const dirs = [...new Set(library.files.filter((f) => f.endsWith('README.md')).map(dirname))].slice(0, PACKAGES);
  const files = [];
  for (const [i, dir] of dirs.entries()) {
    const name = basename(dir);
    mkdirSync(join(root, name), { recursive: true });
    copyFileSync(join(dir, 'README.md'), join(root, name, 'README.md'));
    files.push(`${name}/README.md`);
    git('add', '.');
    commit(`docs: add ${name} README`);
    if (i === Math.floor(PACKAGES / 2)) git('tag', '-a', 'v0.1.0', '-m', 'First documentation snapshot');
  }
  for (const dir of dirs.filter((d) => existsSync(join(d, 'CHANGELOG.md'))).slice(0, 4)) {
    const name = basename(dir);
    const notes = readFileSync(join(dir, 'CHANGELOG.md'), 'utf8').split('\n').slice(0, 40).join('\n');
    writeFileSync(join(root, name, 'README.md'), `${readFileSync(join(root, name, 'README.md'), 'utf8')}\n## Recent changes\n\n${notes}\n`);
    git('add', '.');
    commit(`docs(${name}): add recent changes from the changelog`);
  }
  git('branch', 'docs-review');
  return { root, files };
}
