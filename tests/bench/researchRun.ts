/**
 * Orchestration overhead: N research runs at once on a local dev server, with a scripted
 * LLM that answers instantly with MLR-Bench's recorded outputs, so what is measured is
 * Temporal + artifact store + worker. Prints runs/s, latency and history size.
 *   npm run bench:run [-- --runs 20]
 */
import { parseArgs } from 'node:util';
import { prepareRun, startRun } from '../../scripts/lib/runs.js';
import { FakeLlmServer } from '../fakes/fakeLlmServer.js';
import { recordedOutput, stageOfPrompt } from '../fakes/recordedOutputs.js';
import { createDevServerEnv, startTestLab } from '../helpers/temporal.js';
import { historySizeBytes } from '../helpers/wait.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const fake = await new FakeLlmServer((req) => ({ text: recordedOutput(stageOfPrompt(req.prompt)!) })).start();
const env = await createDevServerEnv();
const lab = await startTestLab(env);

const started = performance.now();
const latencies: number[] = [];
const handles = await Promise.all(
  Array.from({ length: runs }, async (_, i) => {
    const { workflowId, input } = await prepareRun(
      { task: 'calibration-under-shift', model: `openai-compatible:scripted@${fake.openaiBaseURL}`, workflowId: `bench-${Date.now()}-${i}` },
      lab.store,
    );
    const t = performance.now();
    const handle = await startRun(env.client, workflowId, input);
    await handle.result();
    latencies.push(performance.now() - t);
    return handle;
  }),
);
const seconds = (performance.now() - started) / 1000;
const history = await handles[0].fetchHistory();
latencies.sort((a, b) => a - b);
const pct = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] / 1000).toFixed(2);
console.log(`${runs} concurrent research runs (5 stages each, scripted LLM) in ${seconds.toFixed(1)} s: ${(runs / seconds).toFixed(2)} runs/s`);
console.log(`run latency p50 ${pct(0.5)} s, p95 ${pct(0.95)} s`);
console.log(`history of one run: ${history.events!.length} events, ${(historySizeBytes(history) / 1024).toFixed(1)} KB (target < 256 KB)`);
await lab.shutdown();
await env.teardown();
await fake.stop();
process.exit(0);
