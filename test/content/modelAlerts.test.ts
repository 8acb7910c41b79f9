/**
 * The learned tier in the stack as `tapwire replay` runs it (a real process over a transcript): a poisoned tool
 * definition and an injected tool result raise learned-tier alerts that say why (score, threshold, model version,
 * attack class, driving features) and validate against the alert schema; their benign twins raise none; replaying
 * the same transcript twice gives the same alerts. A Sigma rule can reference the model's verdict as a field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRules } from '../../detectors/sigma/index.js';
import { RuleEngine } from '../../detectors/sigma/ruleEngine.js';
import { checkAlert } from '../../pipeline/schemaValidator.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { transcriptEvents } from '../../cli/ruleTesting/transcriptEvents.js';
import { runCli } from '../support/tapwireCli.js';
import { MODEL_CASES } from './modelCases.js';

const poisoned = MODEL_CASES.find((c) => c.name === 'description that overrides the system prompt')?.text as string;
const injected = MODEL_CASES.find((c) => c.name.startsWith('tool result that orders'))?.text as string;
const plainTool = MODEL_CASES.find((c) => c.name === 'plain file-reading tool')?.text as string;
const plainResult = MODEL_CASES.find((c) => c.name === 'calendar entry')?.text as string;

function transcript(): object[] {
  const rec = (session: string, server: string, direction: string, message: object): object => ({ session, server, direction, message });
  return [
    rec('s1', 'calc-tools', 'client_to_server', { jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    rec('s1', 'calc-tools', 'server_to_client', { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'calculate', description: poisoned, inputSchema: { type: 'object', properties: { expression: { type: 'string' }, comment: { type: 'string' } } } }, { name: 'read_file', description: plainTool, inputSchema: { type: 'object' } }] } }),
    rec('s2', 'billing', 'client_to_server', { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_invoice', arguments: { id: '8812' } } }),
    rec('s2', 'billing', 'server_to_client', { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: injected }] } }),
    rec('s3', 'calendar', 'client_to_server', { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'next_event', arguments: {} } }),
    rec('s3', 'calendar', 'server_to_client', { jsonrpc: '2.0', id: 3, result: { content: [{ type: 'text', text: plainResult }] } }),
  ];
}

describe('learned-tier alerts in replay', () => {
  let dir: string;
  let file: string;
  let alerts: McpAlert[];
  let stdout: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tapwire-model-alerts-'));
    file = join(dir, 'session.ndjson');
    writeFileSync(file, `${transcript().map((r) => JSON.stringify(r)).join('\n')}\n`);
    const run = await runCli(['replay', file]);
    expect(run.code, run.stderr).toBe(0);
    stdout = run.stdout.toString('utf8');
    alerts = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as McpAlert);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const learned = (): McpAlert[] => alerts.filter((a) => a.rule.id.startsWith('tapwire.content-model.') && a.event.risk_score > 10);

  it('alerts on the poisoned definition and the injected result, and on neither benign twin', () => {
    const tools = learned().map((a) => (a.alert.details as { name?: string }).name);
    expect(learned().find((a) => (a.alert.details as { name?: string }).name === 'calculate')?.rule.category).toBe('tool_poisoning');
    expect(learned().find((a) => a.mcp?.server?.name === 'billing')?.rule.category).toBe('prompt_injection');
    expect(tools).not.toContain('read_file');
    expect(learned().filter((a) => a.mcp?.server?.name === 'calendar')).toEqual([]);
  });

  it('says why: score, threshold, model version, attack class and the features that drove it', () => {
    for (const alert of learned()) {
      const d = alert.alert.details as { model: Record<string, unknown>; features: { feature: string; weight: number }[]; excerpt: string };
      expect(d.model.score as number).toBeGreaterThanOrEqual(d.model.threshold as number);
      expect(d.model.version).toMatch(/^cm1-[0-9a-f]{10}$/);
      expect(typeof d.model.attack_class).toBe('string');
      expect(d.features.length).toBeGreaterThan(0);
      expect(d.features.every((f) => f.weight > 0)).toBe(true);
      expect(d.excerpt.length).toBeGreaterThan(0);
      expect(alert.alert.matched?.map((m) => m.field)).toEqual(['mcp.content.score', 'mcp.content.class']);
      expect(alert.message).toContain(String(d.model.version));
    }
  });

  it('validates every alert against the alert schema', () => {
    for (const alert of alerts) expect(checkAlert(alert).errors ?? []).toEqual([]);
  });

  it('raises identical alerts when the same transcript is replayed again', async () => {
    const again = await runCli(['replay', file]);
    expect(again.stdout.toString('utf8')).toBe(stdout);
  });

  it('lets a Sigma rule reference the verdict as mcp.content.score and mcp.content.class', () => {
    const rule = `title: High model score on returned content
id: 7d0c4d1e-3a51-4a3e-9a0e-5f0f8f3c2b11
status: experimental
description: combines the learned tier's verdict with a method condition
logsource: {product: mcp, category: tool_result}
detection:
  selection:
    mcp.content.score|gte: 0.5
    mcp.content.class: result_injection
  condition: selection
level: high
tags: [tapwire.category.prompt_injection]
`;
    const { rules, errors } = compileRules([{ path: 'content-score.yml', text: rule }]);
    expect(errors.map((e) => e.message)).toEqual([]);
    const engine = new RuleEngine(rules);
    const hits = transcriptEvents('t.ndjson', transcript().map((value, i) => ({ value, line: i + 1 }))).flatMap((e) => engine.evaluate(e));
    expect(hits.map((a) => a.mcp?.server?.name)).toEqual(['billing']);
  });
});
