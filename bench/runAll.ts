/** `npm run bench [ID…]`: runs the benchmarks (all, or the named ones) and updates their BENCHMARKS.md sections. */
import { writeSection } from './benchReport.js';

interface Benchmark {
  id: string;
  run(): Promise<string>;
}

const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  'stdio-tap': () => import('./stdioTap.bench.js'),
  burst: () => import('./burst.bench.js'),
  'sigma-engine': () => import('./sigmaEngine.bench.js'),
  'http-proxy': () => import('./httpProxy.bench.js'),
  detectors: () => import('./detectors.bench.js'),
  'kafka-path': () => import('./kafkaPath.bench.js'),
  'fleet-taps': () => import('./fleetTaps.bench.js'),
  'content-model': () => import('./contentModel.bench.js'),
  'embedded-pipeline': () => import('./embeddedPipeline.bench.js'),
};

const wanted = process.argv.slice(2);
for (const [id, load] of Object.entries(BENCHMARKS)) {
  if (wanted.length && !wanted.includes(id)) continue;
  process.stderr.write(`bench ${id}…\n`);
  const section = await (await load()).run();
  writeSection(id, section);
  process.stdout.write(`${section}\n\n`);
}
