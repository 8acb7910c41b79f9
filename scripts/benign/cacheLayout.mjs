// Where the benign capture keeps everything it downloads and produces: outside the repo, because the captured
// text is third-party and may not be redistributed; the manifest in the repo is enough to rebuild it.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultCacheRoot() {
  return process.env.TAPWIRE_DATA_CACHE || join(homedir(), '.cache', 'tapwire');
}

export function cacheLayout(cacheRoot) {
  const benign = join(cacheRoot, 'benign');
  return {
    benign,
    serversDir: join(benign, 'servers'),
    workDir: join(benign, 'work'),
    serversJsonl: join(benign, 'servers.jsonl'),
    resultsJsonl: join(benign, 'results.jsonl'),
    report: join(benign, 'capture-report.json'),
  };
}

/** One npm prefix per package and version, so that servers with clashing dependency trees never share one. */
export function packagePrefix(serversDir, entry) {
  const slug = entry.name.replace(/^@/, '').replace(/\//g, '__');
  return join(serversDir, `${slug}@${entry.version}`);
}
