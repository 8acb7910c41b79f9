/** Small helpers for writing Sigma rules inline in tests and running them through the real compiler and engine. */
import { compileRules, RuleEngine, type CompiledRule, type SigmaCompileOptions } from '../../detectors/sigma/index.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

export interface RuleSpec {
  /** The detection block, written at column 0 (it is indented under `detection:`). */
  detection: string;
  category?: string;
  level?: string;
  id?: string;
  title?: string;
  tags?: string[];
}

/** Removes the common leading indentation of a template string and its surrounding blank lines. */
export function dedent(text: string): string {
  const lines = text.replace(/^\n+|\s+$/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** A complete rule document around a detection block. */
export function ruleText(spec: RuleSpec): string {
  const tags = spec.tags ?? ['tapwire.category.tool_poisoning'];
  const lines = [
    `title: ${spec.title ?? 'Test rule'}`,
    `id: ${spec.id ?? 'test-rule-1'}`,
    `level: ${spec.level ?? 'high'}`,
    ...(tags.length > 0 ? ['tags:', ...tags.map((t) => `    - ${t}`)] : []),
    'logsource:',
    '    product: mcp',
    ...(spec.category === undefined ? [] : [`    category: ${spec.category}`]),
    'detection:',
    ...dedent(spec.detection)
      .split('\n')
      .map((l) => `    ${l}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Compiles sources that must compile cleanly (throws listing the errors otherwise). */
export function compileClean(text: string, options: SigmaCompileOptions = {}, path = 'rules/test.yml'): CompiledRule[] {
  const { rules, errors } = compileRules([{ path, text }], options);
  if (errors.length > 0) throw new Error(`unexpected rule errors:\n${errors.map((e) => e.message).join('\n')}`);
  return rules;
}

/** The error messages compiling `text` produces. */
export function compileErrors(text: string, options: SigmaCompileOptions = {}, path = 'rules/test.yml'): string[] {
  return compileRules([{ path, text }], options).errors.map((e) => e.message);
}

/** An engine over rules that must compile cleanly. */
export function engineFor(text: string, options: SigmaCompileOptions = {}): RuleEngine {
  return new RuleEngine(compileClean(text, options));
}

/** Whether a one-rule detection matches the event. */
export function detects(spec: RuleSpec, event: McpEvent, options: SigmaCompileOptions = {}): boolean {
  return engineFor(ruleText(spec), options).evaluate(event).length > 0;
}

/** Whether a rule whose one search identifier is `selection` (written at column 0) matches the event. */
export function selectionDetects(selection: string, event: McpEvent, category = 'tool_call', options: SigmaCompileOptions = {}): boolean {
  return detects({ category, detection: `selection:\n${selection.replace(/^/gm, '    ')}\ncondition: selection` }, event, options);
}

/** Runs events through a fresh engine and returns every alert (after a final flush). */
export function runAll(text: string, events: readonly McpEvent[], options: SigmaCompileOptions = {}): McpAlert[] {
  const engine = engineFor(text, options);
  return [...events.flatMap((e) => engine.evaluate(e)), ...engine.flush()];
}
