/**
 * The embedded model on this machine. `npm run bench:embedded` measures:
 *  1. throughput through the LLM gateway (the path every stage uses): load time, prompt and
 *     generated tokens/s, a grammar-constrained JSON call, and what prefix reuse saves;
 *  2. the research run itself on each example task (as `npm run demo` runs one): time, LLM
 *     calls, commands the experiment ran, result files they wrote, and the paper's unsupported
 *     numbers.
 *
 *   npm run bench:embedded [-- --tasks a,b] [-- --throughput-only] [-- --runs-only]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { lastEmbeddedCall } from '../../activities/llm/embeddedProvider.js';
import { LlmGateway } from '../../activities/llm/gateway.js';
import { LocalArtifactStore } from '../../activities/store/localStore.js';
import { progressQuery } from '../../workflows/definitions.js';
import { EMBEDDED_EXPERIMENT, startWorker } from '../../scripts/demo.js';
import { spawnDevServer, waitForPort } from '../../scripts/lib/devServer.js';
import { connectClient } from '../../scripts/lib/client.js';
import { prepareRun, startRun } from '../../scripts/lib/runs.js';
import { freePort } from '../helpers/labProcesses.js';
import { writeBenchSection } from './resultsFile.js';

const EXAMPLE_TASKS = ['calibration-under-shift', 'reproducible-ml-pipelines', 'small-lm-data-efficiency'];

/** What this run printed, for its section of bench/results.md. */
const printed: string[] = [];
const say = (line = '') => {
  console.log(line);
  printed.push(line);
};

const { values } = parseArgs({
  options: { tasks: { type: 'string' }, 'throughput-only': { type: 'boolean' }, 'runs-only': { type: 'boolean' } },
});
const started = new Date();
say(`machine: ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
if (!values['runs-only']) await throughput();
if (!values['throughput-only']) await researchRuns(values.tasks ? values.tasks.split(',').map((t) => t.trim()) : EXAMPLE_TASKS);
const args = process.argv.slice(2).join(' ');
const file = writeBenchSection('## Embedded model (tests/bench/embedded.ts)', [
  `Date: ${started.toISOString()}  `,
  `Command: \`npm run bench:embedded${args ? ` -- ${args}` : ''}\`  `,
  '',
  ...printed.filter((l) => !/ started \(outputs in /.test(l)),
]);
console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
process.exit(0);

async function throughput(): Promise<void> {
  const gateway = new LlmGateway();
  const prompt = 'Propose one research idea about calibration of classifiers under distribution shift, in about 150 words.';
  const t0 = performance.now();
  await gateway.complete({ model: 'embedded', prompt: 'Say hi.', maxTokens: 4 });
  const loadMs = performance.now() - t0;

  const runs = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const r = await gateway.complete({ model: 'embedded', prompt, maxTokens: 256, temperature: 0 });
    runs.push({ ms: performance.now() - started, out: r.calls[0].outputTokens, in: r.calls[0].inputTokens });
  }
  const json = await gateway.completeJson(
    { model: 'embedded', prompt: 'Score this idea from 1 to 10 for novelty: "calibrate with temperature scaling".', maxTokens: 96, temperature: 0 },
    z.object({ score: z.number().int().min(1).max(10), justification: z.string() }),
  );
  const genTokens = runs.reduce((n, r) => n + r.out, 0);
  const genSeconds = runs.reduce((n, r) => n + r.ms, 0) / 1000;
  say(`model load + first call: ${(loadMs / 1000).toFixed(1)} s`);
  for (const r of runs) say(`  call: ${r.in} prompt + ${r.out} generated tokens in ${(r.ms / 1000).toFixed(2)} s`);
  say(`generation (incl. prompt processing): ${(genTokens / genSeconds).toFixed(1)} tokens/s over ${genTokens} tokens`);
  say(`JSON call (grammar-constrained): ${json.calls.length} call(s), value ${JSON.stringify(json.value)}`);

  // Prefix reuse: two calls sharing a long preamble (a stage prompt's task and inputs); the second
  // processes only what differs. The first call here starts from another prompt, so it pays in full.
  const preamble = `Task: ${'Calibration of classifiers under distribution shift, measured with expected calibration error on shifted test sets. '.repeat(60)}`;
  const timed = async (question: string) => {
    const started = performance.now();
    await gateway.complete({ model: 'embedded', prompt: `${preamble}\nQuestion: ${question}`, maxTokens: 8, temperature: 0 });
    return { seconds: (performance.now() - started) / 1000, ...lastEmbeddedCall()! };
  };
  const cold = await timed('name one metric.');
  const warm = await timed('name one dataset.');
  say(
    `prefix reuse: a ${cold.inputTokens}-token prompt took ${cold.seconds.toFixed(1)} s (${cold.evaluatedTokens} tokens processed); the next one sharing its preamble ${warm.seconds.toFixed(1)} s (${warm.evaluatedTokens} processed)`,
  );
}

interface TaskFigures {
  task: string;
  status: string;
  seconds: number;
  calls: number;
  experiment: string;
  commands: number;
  resultFiles: string[];
  /** Whether the script the commands ran was the brief's example as it stands (results.md says so). */
  exampleScript: boolean;
  unsupported: number | undefined;
}

/** Each task as `npm run demo` runs it (same experiment bounds), one after another on one dev server and worker. */
async function researchRuns(tasks: string[]): Promise<void> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'lab-bench-embedded-'));
  process.env.LAB_HOME = home;
  const port = await freePort();
  const server = spawnDevServer({ port, uiPort: 0, dbFile: path.join(home, 'temporal.db'), headless: true, logFile: path.join(home, 'server.log') });
  const figures: TaskFigures[] = [];
  let worker;
  try {
    await waitForPort(port, 60_000, server);
    process.env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
    worker = await startWorker(path.join(home, 'worker.log'));
    const { client, close } = await connectClient();
    const store = new LocalArtifactStore(path.join(home, 'artifacts'));
    try {
      for (const task of tasks) {
        const started = performance.now();
        const { workflowId, input } = await prepareRun({ task, model: 'embedded', experiment: EMBEDDED_EXPERIMENT });
        const handle = await startRun(client, workflowId, input);
        console.log(`\n${task}: run ${workflowId} started (outputs in ${store.runFolder(workflowId)})`);
        // A failed run is a figure too, not the end of the benchmark.
        const result = await handle.result().catch((err: Error) => ({ status: `failed (${err.cause instanceof Error ? err.cause.message : err.message})` }));
        const seconds = (performance.now() - started) / 1000;
        const progress = await handle.query(progressQuery);
        const experimentStage = progress.stages.find((s) => s.stage === 'experiment');
        const paper = progress.stages.find((s) => s.stage === 'paper');
        const experiment = experimentStage?.checks?.experiment;
        const row: TaskFigures = {
          task,
          status: result.status,
          seconds,
          calls: progress.totals.llmCalls,
          experiment: experiment ? `${experiment.status} (${experiment.end}, ${experiment.steps} steps)` : 'not run',
          commands: experiment?.commands ?? 0,
          resultFiles: collectedResults(store.runFolder(workflowId)),
          exampleScript: ranTheExample(store.runFolder(workflowId)),
          unsupported: paper?.checks?.provenance?.counts?.unsupported ?? paper?.checks?.provenance?.unmatched,
        };
        figures.push(row);
        say(`${task}: ${row.status} in ${(seconds / 60).toFixed(1)} min, ${row.calls} calls, experiment ${row.experiment}, ${row.commands} commands, results ${row.resultFiles.join(', ') || 'none'}${row.exampleScript ? " (the brief's example script, as it stands)" : ''}, unsupported numbers ${row.unsupported ?? 'not checked'}`);
      }
    } finally {
      await close();
    }
  } finally {
    worker?.kill('SIGTERM');
    server.kill('SIGTERM');
  }
  say();
  say('| task | status | time | LLM calls | experiment | commands run | result files | script run | unsupported numbers |');
  say('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const f of figures) {
    const time = `${Math.floor(f.seconds / 60)} min ${Math.round(f.seconds % 60)} s`;
    say(`| ${f.task} | ${f.status} | ${time} | ${f.calls} | ${f.experiment} | ${f.commands} | ${f.resultFiles.join(', ') || 'none'} | ${f.commands ? (f.exampleScript ? "the brief's example, as it stands" : 'its own') : '—'} | ${f.unsupported ?? 'not checked'} |`);
  }
  const withResults = figures.filter((f) => f.resultFiles.length).length;
  const own = figures.filter((f) => f.resultFiles.length && !f.exampleScript).length;
  say();
  say(`${withResults} of ${figures.length} tasks with result files written by a command (${own} by a script of the model's own, ${withResults - own} by the brief's example as it stands)`);
  await rm(home, { recursive: true, force: true });
}

function ranTheExample(runFolder: string): boolean {
  try {
    return readFileSync(path.join(runFolder, 'results', 'results.md'), 'utf8').includes("## The brief's example script, run as it stands");
  } catch {
    return false;
  }
}

/** Result data the collector stored for the run (experiment/collected.json), by their workspace names. */
function collectedResults(runFolder: string): string[] {
  try {
    const collected = JSON.parse(readFileSync(path.join(runFolder, 'experiment', 'collected.json'), 'utf8')) as { files?: Array<{ path: string; as: string }> };
    return (collected.files ?? []).filter((f) => f.as === 'result').map((f) => f.path);
  } catch {
    return [];
  }
}
