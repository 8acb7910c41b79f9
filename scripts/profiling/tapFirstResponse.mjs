// Time from spawning `tapwire tap` to the first response it forwards (the echo fixture answering an initialize), for
// several builds, in alternating rounds (a loaded machine moves wall-clock times: read the per-round ratios).
// flag: the tap gets --home; env: only TAPWIRE_HOME, so the tap resolves its home through the configuration.
// usage: node scripts/profiling/tapFirstResponse.mjs ROUNDS label=DIST:mode ...   (mode: flag = --home, env = TAPWIRE_HOME only)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
const [rounds, ...variants] = process.argv.slice(2);
const echo = fileURLToPath(new URL('../../test/fixtures/echoServer.mjs', import.meta.url));
const line = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'b', version: '1' } } }) + '\n';
async function once(dist, mode) {
  const home = mkdtempSync(join(tmpdir(), 'loose-fr-'));
  const args = [join(dist, 'cli/tapwire.js'), 'tap', ...(mode === 'flag' ? ['--home', home] : []), '--', process.execPath, echo];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, TAPWIRE_HOME: home } });
  child.stdin.write(line);
  const first = await new Promise((resolve) => child.stdout.once('data', () => resolve(performance.now() - t0)));
  child.stdin.end();
  await new Promise((resolve) => child.on('close', resolve));
  rmSync(home, { recursive: true, force: true });
  return first;
}
const results = Object.fromEntries(variants.map((v) => [v.split('=')[0], []]));
for (let r = 0; r < Number(rounds); r++) {
  for (const v of variants) {
    const [label, spec] = v.split('=');
    const [dist, mode] = spec.split(':');
    results[label].push(await once(dist, mode));
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [label, times] of Object.entries(results)) console.log(label, 'median', median(times).toFixed(0), 'ms', 'all', times.map((t) => t.toFixed(0)).join(' '));
