// Runs each scenario whose server package is available, under one hard deadline per scenario, and turns every
// returned text into a result record. Failed steps are counted and reported; they never stop the other steps.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promptTexts, resourceTexts, toolResultTexts } from './callResults.mjs';
import { withServer } from './launchServer.mjs';
import { resultRecord } from './records.mjs';
import { scenarios } from './serverScenarios.mjs';

async function runStep(client, step, requestOptions) {
  if (step.tool) {
    const result = await client.callTool({ name: step.tool, arguments: step.arguments }, undefined, requestOptions);
    return [{ method: 'tools/call', name: step.tool, isError: result.isError === true, pieces: toolResultTexts(result) }];
  }
  if (step.readResource) {
    const result = await client.readResource({ uri: step.readResource }, requestOptions);
    return [{ method: 'resources/read', name: step.readResource, pieces: resourceTexts(result) }];
  }
  if (step.prompt) {
    const result = await client.getPrompt({ name: step.prompt, arguments: step.arguments }, requestOptions);
    return [{ method: 'prompts/get', name: step.prompt, pieces: promptTexts(result) }];
  }
  if (step.readAllResources) {
    const outputs = [];
    const listed = await client.listResources({}, requestOptions);
    for (const resource of listed.resources.slice(0, step.readAllResources)) {
      const result = await client.readResource({ uri: resource.uri }, requestOptions);
      outputs.push({ method: 'resources/read', name: resource.uri, pieces: resourceTexts(result) });
    }
    return outputs;
  }
  throw new Error(`unknown step ${JSON.stringify(step)}`);
}

const KIND_BY_METHOD = { 'tools/call': 'tool_result', 'resources/read': 'resource_content', 'prompts/get': 'prompt_messages' };

/**
 * `available` maps package name -> { entry, packageDir, pkg }. Resolves to { records, report } where report has
 * one row per scenario (status, steps run/failed, records, failure reasons).
 */
export async function runScenarios({ available, workRoot, context, timeoutMs, requestTimeoutMs, log }) {
  const records = [];
  const report = {};
  for (const scenario of scenarios) {
    const found = available.get(scenario.package);
    if (!found) {
      report[scenario.name] = { package: scenario.package, status: 'skipped', reason: 'package not captured' };
      continue;
    }
    const workDir = join(workRoot, 'scenarios', scenario.name);
    for (const file of scenario.fresh ?? []) rmSync(join(workDir, file), { force: true });
    mkdirSync(workDir, { recursive: true });
    let steps;
    try {
      steps = scenario.steps({ ...context, workDir });
    } catch (error) {
      // Preparing local data (e.g. the git repository) can fail on a machine without git: that scenario only.
      report[scenario.name] = { package: scenario.package, status: 'failed', reason: `preparing: ${error.message}` };
      log(`scenario ${scenario.name}: preparing failed: ${error.message}`);
      continue;
    }
    const failures = [];
    let produced = 0;
    const outcome = await withServer({
      packageDir: found.packageDir,
      entry: { ...found.entry, args: scenario.args ?? found.entry.args, env: { ...found.entry.env, ...scenario.env } },
      workDir,
      vars: { library: context.library.root },
    }, timeoutMs, async (client) => {
      for (const [stepIndex, step] of steps.entries()) {
        let outputs;
        try {
          outputs = await runStep(client, step, { timeout: requestTimeoutMs });
        } catch (error) {
          failures.push(`step ${stepIndex} (${step.tool ?? step.prompt ?? step.readResource ?? 'resources'}): ${error.message}`);
          continue;
        }
        for (const [outputIndex, output] of outputs.entries()) {
          for (const [pieceIndex, piece] of output.pieces.entries()) {
            if (piece.text.trim() === '') continue;
            produced++;
            records.push(resultRecord({
              pkg: found.pkg,
              toolName: output.method === 'tools/call' ? output.name : null,
              text: piece.text,
              locator: [scenario.name, String(stepIndex), String(outputIndex), String(pieceIndex)],
              meta: {
                kind: KIND_BY_METHOD[output.method],
                origin: 'server-call',
                scenario: scenario.name,
                method: output.method,
                target: output.name,
                contentType: piece.contentType,
                ...(output.isError ? { isError: true } : {}),
              },
            }));
          }
        }
      }
    });
    report[scenario.name] = {
      package: scenario.package,
      status: outcome.ok ? 'ran' : 'failed',
      steps: steps.length,
      failedSteps: failures.length,
      records: produced,
      ...(outcome.ok ? {} : { reason: outcome.reason, stderr: outcome.stderr }),
      ...(failures.length ? { failures: failures.slice(0, 10) } : {}),
    };
    log(`scenario ${scenario.name}: ${produced} records, ${failures.length}/${steps.length} steps failed${outcome.ok ? '' : `, ${outcome.reason}`}`);
  }
  return { records, report };
}
