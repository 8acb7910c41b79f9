/** `tapwire demo`: real MCP servers behind taps, a scripted host, and a report of what Tapwire saw. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureHome } from '../../pipeline/home.js';
import { writeDemoReport } from '../demo/demoReport.js';
import { runScriptedHost } from '../demo/scriptedHost.js';
import { withEmbeddedPipeline } from '../embeddedPipeline.js';
import { parseCommand } from '../usage.js';

const spec = {
  name: 'demo',
  summary:
    'Starts two real MCP servers (a notes server, and a malicious "weather" server that poisons its tool\n' +
    'description, changes it after use and injects instructions into its results), drives a scripted host\n' +
    'through `tapwire tap`, and prints what Tapwire captured.',
  usage: 'tapwire demo [--home DIR]',
  details: `Options:
  --home DIR   keep the demo's data here (default: a new temporary directory)`,
  options: { home: { type: 'string' } },
} as const;

/** Entry point of `tapwire demo`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return 0;
  const home = ensureHome(parsed.values.home ?? mkdtempSync(join(tmpdir(), 'tapwire-demo-'))).root;
  const out = (text: string): void => void process.stdout.write(text);

  out(`Tapwire demo — data in ${home}\n\nA scripted host talks to two MCP servers, each behind 'tapwire tap':\n`);
  await runScriptedHost(home, (step, index) => out(`  ${index + 1}. ${step.narration}\n`));

  await withEmbeddedPipeline(home, ({ store }) => writeDemoReport(store, out));
  out(`\nExplore it:\n  tapwire events --home ${home}\n  tapwire sessions --home ${home}\n  tapwire servers --tools --home ${home}\n  tapwire status --home ${home}\n`);
  return 0;
}
