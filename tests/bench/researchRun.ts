/**
 * Orchestration overhead: N research runs at once on a local dev server, with a scripted
 * LLM that answers instantly with MLR-Bench's recorded outputs, so what is measured is
 * Temporal + artifact store + worker. Prints runs/s, latency and history size.
 *   npm run bench:run [-- --runs 20]
 */
import { parseArgs } from 'node:util';
import { prepareRun, startRun } from '../../scripts/lib/runs.js';
import { FakeLlmServer } from '../fakes/fakeLlmServer.js';
import { scriptedReply } from '../fakes/recordedOutputs.js';
import { createDevServerEnv, startTestLab } from '../helpers/temporal.js';
import { historySizeBytes } from '../helpers/wait.js';
import { progressQuery } from '../../workflows/definitions.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const fake = await new FakeLlmServer((req) => ({ text: scriptedReply(req.prompt)! })).start();
const env = await createDevServerEnv();
const lab = await startTestLab(env);

const started = performance.now();
const latencies: number[] = [];
const handles = await Promise.all(
  Array.from({ length: runs }, async (_, i) => {
    const { workflowId, input } = await prepareRun(
      { task: 'calibration-under-shift', model: `openai-compatible:scripted@${fake.openaiBaseURL}`, workflowId: `bench-${Date.now()}-${i}` },
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
console.log(`${runs} concurrent research runs (5 stages each, scripted LLM, experiment run in the sandbox) in ${seconds.toFixed(1)} s: ${(runs / seconds).toFixed(2)} runs/s`);
console.log(`run latency p50 ${pct(0.5)} s, p95 ${pct(0.95)} s`);
console.log(`history of one run: ${history.events!.length} events, ${(historySizeBytes(history) / 1024).toFixed(1)} KB (target < 256 KB)`);
// The experiment loop: each run's child workflow, its steps (scripted agent, real sandbox) per minute.
let steps = 0;
let loopSeconds = 0;
for (const h of handles) {
  const child = await env.client.workflow.getHandle(`${h.workflowId}-experiment`).describe();
  const progress = await h.query(progressQuery);
  steps += progress.stages[3].checks?.experiment?.steps ?? 0;
  loopSeconds += (child.closeTime!.getTime() - child.startTime.getTime()) / 1000;
}
const childHistory = await env.client.workflow.getHandle(`${handles[0].workflowId}-experiment`).fetchHistory();
console.log(`experiment loop: ${((steps / loopSeconds) * 60).toFixed(0)} steps/min per run (${steps} steps in ${runs} loops, ${runs} at once); child history ${childHistory.events!.length} events, ${(historySizeBytes(childHistory) / 1024).toFixed(1)} KB`);
await lab.shutdown();
await env.teardown();
await fake.stop();
process.exit(0);
