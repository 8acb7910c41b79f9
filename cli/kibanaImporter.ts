/**
 * Loads Tapwire's Kibana content through Kibana's HTTP APIs: saved objects (data views, saved searches, Lens
 * visualizations, dashboards) with `POST /api/saved_objects/_import`, detection rules with
 * `POST /api/detection_engine/rules/_import`, both with overwrite, so importing again updates in place.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../pipeline/packagePaths.js';

/** Where the shipped NDJSON files live. */
export const KIBANA_CONTENT_DIR = join(packageRoot(), 'deploy', 'kibana');
/** Saved-object files in import order: each file's references resolve to objects of the same or an earlier file. */
export const SAVED_OBJECT_FILES = ['data-views.ndjson', 'saved-searches.ndjson', 'dashboards.ndjson'] as const;
/** Detection-rule files (the rule promoting Tapwire alerts into the Security app). */
export const DETECTION_RULE_FILES = ['detection-rules.ndjson'] as const;

export type KibanaAuth = { apiKey: string } | { username: string; password: string };

/** A Kibana to import into. */
export interface KibanaTarget {
  /** Base URL, e.g. http://kibana:5601 */
  url: string;
  /** A Kibana space id; default the default space. */
  space?: string;
  auth?: KibanaAuth;
}

/** One file's import: how many objects or rules Kibana took. */
export interface ImportOutcome {
  file: string;
  imported: number;
}

interface SavedObjectsImportResponse {
  success: boolean;
  successCount: number;
  errors?: { id: string; type: string; error: { type: string; references?: { type: string; id: string }[]; message?: string } }[];
}

interface RulesImportResponse {
  success: boolean;
  success_count: number;
  errors?: { rule_id?: string; id?: string; error: { status_code: number; message: string } }[];
}

function headers(target: KibanaTarget): Record<string, string> {
  const out: Record<string, string> = { 'kbn-xsrf': 'tapwire' };
  if (target.auth && 'apiKey' in target.auth) out.authorization = `ApiKey ${target.auth.apiKey}`;
  else if (target.auth) out.authorization = `Basic ${Buffer.from(`${target.auth.username}:${target.auth.password}`).toString('base64')}`;
  return out;
}

function apiUrl(target: KibanaTarget, path: string): string {
  const base = target.url.replace(/\/+$/, '');
  return `${base}${target.space ? `/s/${encodeURIComponent(target.space)}` : ''}${path}`;
}

/** POSTs one NDJSON file as the multipart `file` field, and returns Kibana's JSON answer. */
async function postNdjson<T>(target: KibanaTarget, path: string, file: string): Promise<T> {
  const form = new FormData();
  form.append('file', new Blob([readFileSync(file)], { type: 'application/ndjson' }), basename(file));
  const response = await fetch(apiUrl(target, path), { method: 'POST', headers: headers(target), body: form });
  const text = await response.text();
  if (!response.ok) throw new Error(`${basename(file)}: Kibana answered ${response.status} ${response.statusText}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Imports a saved-objects file; throws naming every object Kibana refused, and why. */
export async function importSavedObjects(target: KibanaTarget, file: string): Promise<ImportOutcome> {
  const answer = await postNdjson<SavedObjectsImportResponse>(target, '/api/saved_objects/_import?overwrite=true', file);
  if (!answer.success) {
    const problems = (answer.errors ?? []).map((e) => {
      const missing = e.error.references?.map((r) => `${r.type}/${r.id}`).join(', ');
      return `${e.type}/${e.id}: ${e.error.type}${missing ? ` (${missing})` : ''}${e.error.message ? `: ${e.error.message}` : ''}`;
    });
    throw new Error(`${basename(file)}: Kibana refused ${problems.length} saved object(s): ${problems.join('; ')}`);
  }
  return { file, imported: answer.successCount };
}

/** Imports a detection-rules file; throws naming every rule Kibana refused, and why. */
export async function importDetectionRules(target: KibanaTarget, file: string): Promise<ImportOutcome> {
  const answer = await postNdjson<RulesImportResponse>(target, '/api/detection_engine/rules/_import?overwrite=true', file);
  if (!answer.success) {
    const problems = (answer.errors ?? []).map((e) => `${e.rule_id ?? e.id ?? '(rule)'}: ${e.error.status_code} ${e.error.message}`);
    throw new Error(`${basename(file)}: Kibana refused ${problems.length} rule(s): ${problems.join('; ')}`);
  }
  return { file, imported: answer.success_count };
}

/** Waits until Kibana reports itself available (GET /api/status), polling every `pollMs`, for at most `timeoutMs`. */
export async function waitForKibana(target: KibanaTarget, timeoutMs: number, pollMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const response = await fetch(apiUrl({ ...target, space: undefined }, '/api/status'), { headers: headers(target) });
      if (response.status === 401 || response.status === 403) throw new KibanaAuthError(response.status);
      const status = (await response.json().catch(() => ({}))) as { status?: { overall?: { level?: string; state?: string } } };
      const overall = status.status?.overall;
      if (response.ok && (overall?.level === 'available' || overall?.state === 'green')) return;
      last = `HTTP ${response.status}, status ${overall?.level ?? overall?.state ?? 'unknown'}`;
    } catch (error) {
      if (error instanceof KibanaAuthError) throw error;
      const { cause, message } = error as Error;
      last = cause instanceof Error ? cause.message : message;
    }
    if (Date.now() >= deadline) throw new Error(`Kibana at ${target.url} is not available after ${Math.round(timeoutMs / 1000)} s (${last})`);
    await sleep(pollMs);
  }
}

/** Kibana refused the credentials: waiting longer will not help. */
class KibanaAuthError extends Error {
  constructor(status: number) {
    super(`Kibana refused the credentials (HTTP ${status}); set KIBANA_API_KEY, or KIBANA_USERNAME and KIBANA_PASSWORD`);
  }
}

/**
 * Checks a detection-rule file before anything is imported: it must hold at least one rule, and every line must
 * be a JSON object with a rule_id. An empty file is refused, because Kibana would "import" it as zero rules and
 * the user would believe the export's rules are active (an export that skipped every rule writes an empty file).
 */
export function checkDetectionRuleFile(file: string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  let rules = 0;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${file}:${index + 1}: not a JSON object (${(error as Error).message})`);
    }
    const ruleId = (value as { rule_id?: unknown } | null)?.rule_id;
    if (typeof ruleId !== 'string' || ruleId === '') throw new Error(`${file}:${index + 1}: field 'rule_id': a detection rule needs a non-empty rule_id`);
    rules++;
  });
  if (rules === 0) throw new Error(`${file}:1: holds no detection rule (the file is empty); nothing was imported. Did 'tapwire rules export' skip every rule? It lists the skipped rules and why on stderr.`);
}

/** Imports the shipped content, then any extra rule files (e.g. from `tapwire rules export --format kibana`), each checked first. */
export async function importKibanaContent(target: KibanaTarget, extraRuleFiles: readonly string[] = [], dir = KIBANA_CONTENT_DIR): Promise<ImportOutcome[]> {
  for (const file of extraRuleFiles) checkDetectionRuleFile(file);
  const outcomes: ImportOutcome[] = [];
  for (const name of SAVED_OBJECT_FILES) outcomes.push(await importSavedObjects(target, join(dir, name)));
  for (const file of [...DETECTION_RULE_FILES.map((name) => join(dir, name)), ...extraRuleFiles]) outcomes.push(await importDetectionRules(target, file));
  return outcomes;
}
