import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importKibanaContent, KIBANA_CONTENT_DIR, waitForKibana } from '../../cli/kibanaImporter.js';
import { startRecordingHttpServer, type HttpAnswer, type RecordedHttpRequest, type RecordingHttpServer } from '../support/recordingHttpServer.js';

/** The NDJSON file a multipart import request carries. */
async function uploadedFile(request: RecordedHttpRequest): Promise<{ name: string; text: string }> {
  const form = await new Response(request.body, { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
  const file = form.get('file') as File;
  return { name: file.name, text: await file.text() };
}

/** Kibana's import APIs, answering success with the number of lines imported. */
async function kibana(answer?: (request: RecordedHttpRequest) => HttpAnswer | undefined): Promise<RecordingHttpServer> {
  return startRecordingHttpServer(async (request) => {
    const custom = answer?.(request);
    if (custom) return custom;
    const lines = request.body.length === 0 ? 0 : (await uploadedFile(request)).text.trimEnd().split('\n').length;
    if (request.url.includes('/api/detection_engine/rules/_import')) return { body: { success: true, success_count: lines, rules_count: lines, errors: [] } };
    return { body: { success: true, successCount: lines, successResults: [] } };
  });
}

let server: RecordingHttpServer | undefined;
let dir: string | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('tapwire kibana import', () => {
  it('posts data views, then searches, then dashboards, then the detection rules, each as a multipart NDJSON upload', async () => {
    server = await kibana();
    dir = mkdtempSync(join(tmpdir(), 'tapwire-kibana-'));
    const exported = join(dir, 'exported.ndjson');
    writeFileSync(exported, '{"rule_id":"x"}\n{"rule_id":"y"}\n');
    const outcomes = await importKibanaContent({ url: `${server.url}/`, space: 'soc', auth: { apiKey: 'a2V5' } }, [exported]);

    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /s/soc/api/saved_objects/_import?overwrite=true',
      'POST /s/soc/api/saved_objects/_import?overwrite=true',
      'POST /s/soc/api/saved_objects/_import?overwrite=true',
      'POST /s/soc/api/detection_engine/rules/_import?overwrite=true',
      'POST /s/soc/api/detection_engine/rules/_import?overwrite=true',
    ]);
    const files = await Promise.all(server.requests.map(uploadedFile));
    expect(files.map((f) => f.name)).toEqual(['data-views.ndjson', 'saved-searches.ndjson', 'dashboards.ndjson', 'detection-rules.ndjson', 'exported.ndjson']);
    expect(files[2]!.text).toBe(readFileSync(join(KIBANA_CONTENT_DIR, 'dashboards.ndjson'), 'utf8'));
    for (const request of server.requests) {
      expect(request.headers['kbn-xsrf']).toBe('tapwire');
      expect(request.headers.authorization).toBe('ApiKey a2V5');
    }
    expect(outcomes.map((o) => o.imported)).toEqual([3, 5, 22, 1, 2]);
  });

  it('refuses an empty rule file, or a line that is not a rule, before importing anything', async () => {
    server = await kibana();
    dir = mkdtempSync(join(tmpdir(), 'tapwire-kibana-'));
    const empty = join(dir, 'empty.ndjson');
    writeFileSync(empty, '\n');
    await expect(importKibanaContent({ url: server.url }, [empty])).rejects.toThrow(`${empty}:1: holds no detection rule (the file is empty); nothing was imported`);
    const broken = join(dir, 'broken.ndjson');
    writeFileSync(broken, '{"rule_id":"x"}\n{"name":"no id"}\n');
    await expect(importKibanaContent({ url: server.url }, [broken])).rejects.toThrow(`${broken}:2: field 'rule_id'`);
    expect(server.requests).toEqual([]);
  });

  it('names each object Kibana refused, and why, and stops there', async () => {
    server = await kibana((request) =>
      request.url.includes('saved_objects')
        ? {
            body: {
              success: false,
              successCount: 2,
              errors: [{ id: 'tapwire-search-alerts', type: 'search', title: 'Tapwire: alerts', error: { type: 'missing_references', references: [{ type: 'index-pattern', id: 'tapwire-mcp-alerts' }] } }],
            },
          }
        : undefined,
    );
    await expect(importKibanaContent({ url: server.url, auth: { username: 'elastic', password: 'pw' } })).rejects.toThrow(
      'data-views.ndjson: Kibana refused 1 saved object(s): search/tapwire-search-alerts: missing_references (index-pattern/tapwire-mcp-alerts)',
    );
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('elastic:pw').toString('base64')}`);
  });

  it('reports rules the detection engine refused, and HTTP errors with their status', async () => {
    server = await kibana((request) =>
      request.url.includes('detection_engine') ? { body: { success: false, success_count: 0, errors: [{ rule_id: 'a7c1', error: { status_code: 400, message: 'Invalid value "x" supplied to "severity"' } }] } } : undefined,
    );
    await expect(importKibanaContent({ url: server.url })).rejects.toThrow('detection-rules.ndjson: Kibana refused 1 rule(s): a7c1: 400 Invalid value "x" supplied to "severity"');
    await server.close();
    server = await kibana(() => ({ status: 403, body: { statusCode: 403, error: 'Forbidden', message: 'unauthorized' } }));
    await expect(importKibanaContent({ url: server.url })).rejects.toThrow(/^data-views\.ndjson: Kibana answered 403 Forbidden: .*unauthorized/);
  });

  it('waits for Kibana to report itself available, and gives up at the deadline with the last answer', async () => {
    let calls = 0;
    server = await startRecordingHttpServer(() => {
      calls += 1;
      return calls < 3 ? { status: 503, body: { status: { overall: { level: 'unavailable' } } } } : { body: { status: { overall: { level: 'available' } } } };
    });
    await waitForKibana({ url: server.url }, 10_000, 1);
    expect(calls).toBe(3);
    await server.close();
    server = await startRecordingHttpServer(() => ({ status: 503, body: { status: { overall: { level: 'degraded' } } } }));
    await expect(waitForKibana({ url: server.url }, 0, 1)).rejects.toThrow(/is not available after 0 s \(HTTP 503, status degraded\)/);
  });
});
