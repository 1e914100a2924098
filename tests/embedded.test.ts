/**
 * The embedded default model: the real Qwen2.5-Coder-1.5B-Instruct GGUF that the set-up script assembles
 * from PyPI, loaded in-process with node-llama-cpp on the CPU.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { boundedIntegersAsEnums, defaultGgufPath, EmbeddedProvider, embeddedModelLoads, lastEmbeddedCall } from '../activities/llm/embeddedProvider.js';
import { LlmGateway } from '../activities/llm/gateway.js';

describe('embedded model', () => {
  const gateway = new LlmGateway();

  it('is installed by the set-up script', () => {
    expect(existsSync(defaultGgufPath()), `${defaultGgufPath()} missing: run npm run setup`).toBe(true);
  });

  it('answers with schema-valid JSON through grammar-constrained decoding', async () => {
    const schema = z.object({ title: z.string().min(1), novelty: z.number().int().min(1).max(10) });
    const result = await gateway.completeJson(
      { model: 'embedded', prompt: 'Give a title for a paper on calibration under distribution shift and rate its novelty 1-10.', maxTokens: 64, temperature: 0 },
      schema,
    );
    expect(schema.safeParse(result.value).success).toBe(true);
    const [call] = result.calls;
    expect(call).toMatchObject({ provider: 'embedded', model: 'embedded:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf', costUsd: 0 });
    expect(call.outputTokens).toBeGreaterThan(3);
    expect(call.outputTokens).toBeLessThanOrEqual(64);
  }, 120_000);

  it('does not process a prompt prefix again that the previous call already evaluated', async () => {
    // A long shared preamble, as stage prompts and the experiment loop's growing transcript have.
    const preamble = `Task: ${'Calibration of classifiers under distribution shift, measured with expected calibration error on shifted test sets. '.repeat(25)}`;
    await gateway.complete({ model: 'embedded', prompt: `${preamble}\nQuestion: name one metric.`, maxTokens: 4, temperature: 0 });
    const first = lastEmbeddedCall()!;
    await gateway.complete({ model: 'embedded', prompt: `${preamble}\nQuestion: name one dataset.`, maxTokens: 4, temperature: 0 });
    const second = lastEmbeddedCall()!;
    expect(first.inputTokens).toBeGreaterThan(400);
    // The second call processes its new question and its answer, not the 400-token preamble again.
    expect(second.evaluatedTokens).toBeLessThan(second.inputTokens / 4);
  }, 180_000);

  it('writes free text within its token cap, loading the model once per process', async () => {
    const progress: number[] = [];
    const first = await gateway.complete({
      model: 'embedded',
      prompt: 'Name one way to measure calibration.',
      maxTokens: 24,
      onProgress: (n) => progress.push(n),
    });
    expect(first.text.trim().length).toBeGreaterThan(0);
    // Tokens are reported as they stream, for the stage's heartbeat.
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toBe(first.calls[0].outputTokens);
    expect(first.calls[0].outputTokens).toBeLessThanOrEqual(24);
    const loads = embeddedModelLoads();
    await new LlmGateway().complete({ model: 'embedded', prompt: 'Say yes.', maxTokens: 4 });
    // Even a second gateway reuses the process's loaded model.
    expect(embeddedModelLoads()).toBe(loads);
    expect(loads).toBe(1);
  }, 120_000);

  it('refuses a missing GGUF with a config error that says what to do', () => {
    expect(() => new EmbeddedProvider('/nonexistent/model.gguf')).toThrow(/embedded model file not found: \/nonexistent\/model.gguf/);
  });

  it('turns small integer ranges into enums the grammar enforces', () => {
    const schema = { type: 'object', properties: { score: { type: 'integer', minimum: 1, maximum: 3 }, n: { type: 'integer', minimum: 0 } } };
    expect(boundedIntegersAsEnums(schema)).toEqual({
      type: 'object',
      properties: { score: { enum: [1, 2, 3] }, n: { type: 'integer', minimum: 0 } },
    });
  });
});
