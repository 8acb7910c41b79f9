// Harmless, local-only sessions with installed servers whose returned text becomes benign result records: file
// listings and reads of the local library, a knowledge graph built from package metadata, reference-server demos.
// Every step touches only files under the scenario's scratch directory; none reaches the network.
import { dirname } from 'node:path';
import { spread } from './docChunks.mjs';

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

/** Scenario per package; args/env may use {work} (the scenario's scratch dir) and {library} (the docs folder). */
export const scenarios = [
  { name: 'filesystem-library', package: '@modelcontextprotocol/server-filesystem', args: ['{library}'], steps: filesystemSteps },
  { name: 'memory-package-graph', package: '@modelcontextprotocol/server-memory', env: { MEMORY_FILE_PATH: '{work}/memory.jsonl' }, steps: memorySteps, fresh: ['memory.jsonl'] },
  { name: 'everything-demo', package: '@modelcontextprotocol/server-everything', steps: everythingSteps },
  { name: 'sequential-thinking-debug', package: '@modelcontextprotocol/server-sequential-thinking', env: { DISABLE_THOUGHT_LOGGING: 'true' }, steps: sequentialThinkingSteps },
];
