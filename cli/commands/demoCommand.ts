/** `tapwire demo`: real MCP servers behind taps, a scripted host, a report of what Tapwire saw, and the alerts. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureHome } from '../../pipeline/home.js';
import { writeAlertSummary } from '../demo/demoAlerts.js';
import { detectDemo } from '../demo/demoDetection.js';
import { writeDemoReport } from '../demo/demoReport.js';
import { DEMO_SERVERS, runScriptedHost } from '../demo/scriptedHost.js';
import { withEmbeddedPipeline } from '../../service/embeddedPipeline.js';
import { parseCommand } from '../usage.js';

const spec = {
  name: 'demo',
  summary:
    'Starts three real MCP servers (a notes server; a malicious "weather" server that poisons its tool description,\n' +
    'changes it after use and injects instructions into its results; and an unapproved server posing as "notes"),\n' +
    'drives a scripted host through `tapwire tap`, prints what Tapwire captured, runs the detectors over it (with a\n' +
    'demo inventory of approved servers) and prints the alerts.',
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

  out(`Tapwire demo — data in ${home}\n\nA scripted host talks to ${DEMO_SERVERS.length} MCP servers, each behind 'tapwire tap':\n`);
  await runScriptedHost(home, (step, index) => out(`  ${index + 1}. ${step.narration}\n`));

  // The host has waited for its taps to exit, so every hand-off they left is written by now.
  const inventory = await detectDemo(home);

  await withEmbeddedPipeline(home, async ({ store }) => {
    await writeDemoReport(store, out);
    writeAlertSummary(await store.alerts({ limit: 1000 }), out);
  });
  out(
    `\nExplore it:\n  tapwire alerts --home ${home}\n  tapwire alerts show ID --home ${home}     # ID: the short id after an alert above\n` +
      `  tapwire approve --list --home ${home}\n  tapwire events --home ${home}\n` +
      `  tapwire servers --tools --home ${home}\n  tapwire replay <(tapwire events --json --limit 100000 --home ${home}) --inventory ${inventory}\n`,
  );
  return 0;
}
