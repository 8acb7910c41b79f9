// Harmless, local-only sessions with installed servers whose returned text becomes benign result records: file
// listings and reads of the local library, a knowledge graph built from package metadata, reference-server demos.
// Every step touches only files under the scenario's scratch directory; none reaches the network.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spread } from './docChunks.mjs';
import { buildLocalGitRepo } from './localGitRepo.mjs';

const headLines = (i) => 20 + ((i * 37) % 130);

function filesystemSteps({ library }) {
  const readmes = library.files.filter((f) => f.endsWith('README.md'));
  const dirs = [...new Set(library.files.map(dirname))];
  return [
    { tool: 'list_allowed_directories', arguments: {} },
    { tool: 'list_directory', arguments: { path: library.root } },
    { tool: 'list_directory_with_sizes', arguments: { path: library.root, sortBy: 'name' } },
    { tool: 'directory_tree', arguments: { path: library.root } },
    { tool: 'search_files', arguments: { path: library.root, pattern: '**/CHANGELOG.md' } },
    { tool: 'search_files', arguments: { path: library.root, pattern: '**/*.json' } },
    ...spread(dirs, 12).map((path) => ({ tool: 'list_directory_with_sizes', arguments: { path, sortBy: 'size' } })),
    ...spread(library.files, 10).map((path) => ({ tool: 'get_file_info', arguments: { path } })),
    ...library.files.map((path, i) => ({ tool: 'read_text_file', arguments: { path, head: headLines(i) } })),
    ...spread(readmes, 10).map((path, i) => ({ tool: 'read_text_file', arguments: { path, tail: headLines(i + 3) } })),
    // Dry-run edits return a git-style diff of real text and change nothing.
    ...spread(readmes, 12).map((path) => {
      const firstLine = readFileSync(path, 'utf8').split('\n').find((line) => line.trim() !== '') ?? '';
      return { tool: 'edit_file', arguments: { path, dryRun: true, edits: [{ oldText: firstLine, newText: `${firstLine} (local mirror)` }] } };
    }),
  ];
}

function memorySteps({ installed }) {
  const picked = spread(installed.filter((p) => typeof p.json.description === 'string'), 30);
  const names = new Set(picked.map((p) => p.json.name));
  const entities = picked.map(({ json }) => ({
    name: json.name,
    entityType: 'npm package',
    observations: [
      `version ${json.version}`,
      `license ${typeof json.license === 'string' ? json.license : 'not declared'}`,
      json.description,
    ],
  }));
  const relations = picked.flatMap(({ json }) => Object.keys(json.dependencies ?? {})
    .filter((dep) => names.has(dep))
    .map((dep) => ({ from: json.name, to: dep, relationType: 'depends on' })));
  const queries = ['parser', 'stream', 'MIT', 'json', 'http', 'type', 'server', 'cli'];
  return [
    ...spread(entities, 6).map((_, i) => ({ tool: 'create_entities', arguments: { entities: entities.slice(i * 5, i * 5 + 5) } })),
    { tool: 'create_relations', arguments: { relations } },
    { tool: 'add_observations', arguments: { observations: entities.slice(0, 4).map((e) => ({ entityName: e.name, contents: ['captured by the Tapwire benign capture'] })) } },
    { tool: 'read_graph', arguments: {} },
    ...queries.map((query) => ({ tool: 'search_nodes', arguments: { query } })),
    ...spread(entities, 6).map((e) => ({ tool: 'open_nodes', arguments: { names: [e.name] } })),
    { tool: 'open_nodes', arguments: { names: entities.slice(0, 3).map((e) => e.name) } },
  ];
}

function everythingSteps() {
  return [
    { tool: 'echo', arguments: { message: 'Build finished: 42 files compiled, 0 warnings.' } },
    { tool: 'get-sum', arguments: { a: 17, b: 25 } },
    ...['error', 'success', 'debug'].map((messageType) => ({ tool: 'get-annotated-message', arguments: { messageType, includeImage: false } })),
    { tool: 'get-structured-content', arguments: { location: 'New York' } },
    { tool: 'get-structured-content', arguments: { location: 'Chicago' } },
    { tool: 'get-resource-links', arguments: { count: 5 } },
    ...[1, 2, 7].map((resourceId) => ({ tool: 'get-resource-reference', arguments: { resourceType: 'Text', resourceId } })),
    { readAllResources: 20 },
    ...[1, 2, 3].map((id) => ({ readResource: `demo://resource/dynamic/text/${id}` })),
    { prompt: 'simple-prompt', arguments: {} },
    { prompt: 'args-prompt', arguments: { city: 'Lisbon', state: 'Lisboa' } },
    { prompt: 'resource-prompt', arguments: { resourceType: 'Text', resourceId: '3' } },
  ];
}

function sequentialThinkingSteps() {
  const thoughts = [
    'The failing test only fails on CI, so the difference is likely the environment rather than the code.',
    'CI runs on a clean clone; the local checkout has a generated file that is not committed.',
    'Check whether the build step regenerates that file before the tests run.',
    'It does not: the test imports the generated file directly. Add the generation step to the test script.',
  ];
  return thoughts.map((thought, i) => ({
    tool: 'sequentialthinking',
    arguments: { thought, thoughtNumber: i + 1, totalThoughts: thoughts.length, nextThoughtNeeded: i < thoughts.length - 1 },
  }));
}

function gitSteps({ workDir, library }) {
  const repo = buildLocalGitRepo(join(workDir, 'repo'), library);
  return [
    { tool: 'git_set_working_dir', arguments: { path: repo.root } },
    { tool: 'git_status', arguments: {} },
    { tool: 'git_log', arguments: { maxCount: 20 } },
    { tool: 'git_log', arguments: { oneline: true } },
    { tool: 'git_log', arguments: { stat: true, maxCount: 6 } },
    { tool: 'git_log', arguments: { patch: true, maxCount: 2 } },
    { tool: 'git_log', arguments: { grep: 'changelog' } },
    { tool: 'git_show', arguments: { object: 'HEAD' } },
    { tool: 'git_show', arguments: { object: 'HEAD~5', stat: true } },
    { tool: 'git_show', arguments: { object: 'v0.1.0' } },
    { tool: 'git_diff', arguments: { source: 'v0.1.0', target: 'HEAD', stat: true } },
    { tool: 'git_diff', arguments: { source: 'HEAD~2', target: 'HEAD' } },
    { tool: 'git_branch', arguments: { mode: 'list' } },
    { tool: 'git_tag', arguments: { mode: 'list' } },
    ...spread(repo.files, 4).map((filePath) => ({ tool: 'git_blame', arguments: { filePath, startLine: 1, endLine: 30 } })),
    ...spread(repo.files, 4).map((filePath) => ({ tool: 'git_show', arguments: { object: 'HEAD', filePath } })),
  ];
}

// Small programs of our own whose printed output has the shapes tools return: tables, JSON, logs, reports.
const PROGRAMS = [
  'console.table([{ package: "left-pad", version: "1.3.0", size: "2.1 kB" }, { package: "chalk", version: "5.3.0", size: "43 kB" }, { package: "zod", version: "3.23.8", size: "1.2 MB" }]);',
  'const rows = Array.from({ length: 12 }, (_, i) => ({ day: `2026-01-${String(i + 1).padStart(2, "0")}`, requests: 1000 + i * 37, errors: i % 5 })); console.log(JSON.stringify(rows, null, 2));',
  'for (let i = 0; i < 15; i++) console.log(`[2026-01-05T09:${String(i * 3).padStart(2, "0")}:00Z] INFO worker-${i % 3} processed batch ${i} (${200 + i * 11} items)`); console.log("[2026-01-05T09:45:00Z] WARN worker-1 retrying batch 9 after timeout"); console.log("[2026-01-05T09:46:00Z] INFO all batches done");',
  'const text = "the quick brown fox jumps over the lazy dog the fox"; const counts = {}; for (const w of text.split(" ")) counts[w] = (counts[w] || 0) + 1; console.log(Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([w, n]) => `${w.padEnd(8)} ${n}`).join("\\n"));',
  'console.log(["Summary", "=======", "Files scanned: 128", "Files changed: 6", "Lines added: 214", "Lines removed: 37", "", "Run `npm test` before committing the changes."].join("\\n"));',
  'const fib = [0, 1]; while (fib.length < 25) fib.push(fib.at(-1) + fib.at(-2)); console.log(fib.join(", "));',
  'console.log(new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeZone: "UTC" }).format(new Date(Date.UTC(2026, 0, 5))) + "\\n" + (1234567.891).toLocaleString("en-US"));',
  'const csv = "name,role,team\\nAda,engineer,platform\\nGrace,manager,compilers\\nLinus,engineer,kernel"; const [head, ...lines] = csv.split("\\n"); console.log(lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [head.split(",")[i], v]))));',
];

function codeRunnerSteps() {
  return PROGRAMS.map((code) => ({ tool: 'run-code', arguments: { code, languageId: 'javascript' } }));
}

function desktopCommanderSteps({ library }) {
  const dirs = [...new Set(library.files.map(dirname))];
  const shell = (command) => ({ tool: 'start_process', arguments: { command, timeout_ms: 10_000 } });
  return [
    { tool: 'set_config_value', arguments: { key: 'telemetryEnabled', value: false } },
    { tool: 'list_directory', arguments: { path: library.root, depth: 2 } },
    ...spread(library.files, 12).map((path, i) => ({ tool: 'read_file', arguments: { path, offset: 0, length: headLines(i) } })),
    ...spread(library.files, 4).map((path) => ({ tool: 'get_file_info', arguments: { path } })),
    shell(`ls -la ${library.root}`),
    shell(`du -sk ${dirs.slice(0, 10).join(' ')}`),
    shell(`wc -l ${library.files.filter((f) => f.endsWith('README.md')).slice(0, 12).join(' ')}`),
    shell(`grep -n -i "install" ${library.files.filter((f) => f.endsWith('README.md')).slice(0, 8).join(' ')}`),
    shell(`find ${library.root} -name '*.md' -size +4k | sort | head -n 30`),
    shell(`tail -n 25 ${library.files.filter((f) => f.endsWith('CHANGELOG.md')).slice(0, 2).join(' ')}`),
    shell(`grep -c -i -E "must|should|never|always" ${library.files.filter((f) => f.endsWith('README.md')).slice(8, 20).join(' ')}`),
    shell(`cat ${library.files.filter((f) => f.endsWith('package.json')).slice(3, 5).join(' ')}`),
  ];
}

/** Scenario per package; args/env may use {work} (the scenario's scratch dir) and {library} (the docs folder). */
export const scenarios = [
  { name: 'filesystem-library', package: '@modelcontextprotocol/server-filesystem', args: ['{library}'], steps: filesystemSteps },
  { name: 'memory-package-graph', package: '@modelcontextprotocol/server-memory', env: { MEMORY_FILE_PATH: '{work}/memory.jsonl' }, steps: memorySteps, fresh: ['memory.jsonl'] },
  { name: 'everything-demo', package: '@modelcontextprotocol/server-everything', steps: everythingSteps },
  { name: 'sequential-thinking-debug', package: '@modelcontextprotocol/server-sequential-thinking', env: { DISABLE_THOUGHT_LOGGING: 'true' }, steps: sequentialThinkingSteps },
  { name: 'git-docs-history', package: '@cyanheads/git-mcp-server', steps: gitSteps },
  { name: 'code-runner-snippets', package: 'mcp-server-code-runner', env: { TMPDIR: '{work}' }, steps: codeRunnerSteps },
  { name: 'desktop-commander-library', package: '@wonderwhy-er/desktop-commander', steps: desktopCommanderSteps },
];
