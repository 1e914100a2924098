/**
 * Embedded model throughput on this machine: load time, prompt tokens/s and generated tokens/s
 * through the LLM gateway (the path agent stages use). `npm run bench:embedded`.
 */
import os from 'node:os';
import { z } from 'zod';
import { lastEmbeddedCall } from '../../activities/llm/embeddedProvider.js';
import { LlmGateway } from '../../activities/llm/gateway.js';

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
console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, node ${process.version}`);
console.log(`model load + first call: ${(loadMs / 1000).toFixed(1)} s`);
for (const r of runs) console.log(`  call: ${r.in} prompt + ${r.out} generated tokens in ${(r.ms / 1000).toFixed(2)} s`);
console.log(`generation (incl. prompt processing): ${(genTokens / genSeconds).toFixed(1)} tokens/s over ${genTokens} tokens`);
console.log(`JSON call (grammar-constrained): ${json.calls.length} call(s), value ${JSON.stringify(json.value)}`);

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
console.log(`prefix reuse: a ${cold.inputTokens}-token prompt took ${cold.seconds.toFixed(1)} s (${cold.evaluatedTokens} tokens processed); the next one sharing its preamble ${warm.seconds.toFixed(1)} s (${warm.evaluatedTokens} processed)`);
process.exit(0);
