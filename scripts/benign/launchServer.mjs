// Starts one installed MCP server over stdio with the SDK client. The child gets a scratch HOME and only the
// manifest's dummy variables — never the caller's credentials — and is always torn down by close().
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const STDERR_TAIL_CHARS = 600;

/** The script a package's bin points at: the manifest's choice, the only bin, or the one named like the package. */
function resolveBin(packageDir, entry) {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const bins = typeof pkg.bin === 'string' ? { [pkg.name.split('/').pop()]: pkg.bin } : pkg.bin ?? {};
  const names = Object.keys(bins);
  const chosen = entry.bin ?? (names.length === 1 ? names[0] : names.find((n) => n === pkg.name.split('/').pop()));
  if (!chosen || !bins[chosen]) {
    throw new Error(`no bin to launch (package bins: ${names.join(', ') || 'none'}); set "bin" in servers.json`);
  }
  return resolve(packageDir, bins[chosen]);
}

export function declaredLicense(pkg) {
  if (typeof pkg.license === 'string') return pkg.license;
  if (pkg.license && typeof pkg.license.type === 'string') return pkg.license.type;
  if (Array.isArray(pkg.licenses)) return pkg.licenses.map((l) => l.type ?? l).join(' OR ');
  return 'UNKNOWN';
}

/** Replaces {work} (the server's scratch directory) and any other {name} given in `vars` in args and env. */
function expand(value, vars) {
  return value.replace(/\{(\w+)\}/g, (whole, name) => vars[name] ?? whole);
}

/**
 * Connects a client to the server; resolves to { client, stderrTail, close }. The caller bounds the time.
 * `onTransport` receives close() and the stderr tail before connecting, so a caller's timeout can still close it
 * and a server that dies during startup still explains why.
 */
export async function launchServer({ packageDir, entry, workDir, vars = {}, onTransport }) {
  const binPath = resolveBin(packageDir, entry);
  mkdirSync(join(workDir, 'home'), { recursive: true });
  // DO_NOT_TRACK: several servers send usage telemetry at startup unless told not to.
  const env = { HOME: join(workDir, 'home'), NODE_ENV: 'production', NO_COLOR: '1', DO_NOT_TRACK: '1' };
  const allVars = { ...vars, work: workDir };
  for (const [key, value] of Object.entries(entry.env ?? {})) env[key] = expand(value, allVars);
  const args = (entry.args ?? []).map((a) => expand(a, allVars));
  const transport = new StdioClientTransport({
    command: process.execPath, args: [binPath, ...args], env, cwd: workDir, stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => { stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS); });
  const client = new Client({ name: 'tapwire-benign-capture', version: '1.0.0' });
  const close = () => client.close().catch(() => {});
  const stderrTail = () => stderr.trim();
  onTransport?.({ close, stderrTail });
  await client.connect(transport);
  return { client, close, stderrTail };
}

/** Runs `work` against a launched server with a hard deadline; always closes the server. Never rejects. */
export async function withServer(options, timeoutMs, work) {
  let closeServer = () => Promise.resolve();
  let stderrTail = () => '';
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const run = (async () => {
      const session = await launchServer({
        ...options,
        onTransport: (handles) => { closeServer = handles.close; stderrTail = handles.stderrTail; },
      });
      return work(session.client);
    })();
    run.catch(() => {});
    return { ok: true, value: await Promise.race([run, deadline]) };
  } catch (error) {
    return { ok: false, reason: error.message, stderr: stderrTail() || undefined };
  } finally {
    clearTimeout(timer);
    await closeServer();
  }
}
