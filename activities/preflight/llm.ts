/**
 * Preflight for the LLM: before any paid call, the worker that will serve the run checks the
 * model spec, the key and that the provider answers and offers the model (a models list, which
 * costs nothing). One message per problem.
 */
import { ApplicationFailure } from '@temporalio/common';
import { parseModelSpec } from '../../common/modelSpec.js';
import { AnthropicProvider } from '../llm/anthropicProvider.js';
import { EmbeddedProvider } from '../llm/embeddedProvider.js';
import { OpenAIProvider } from '../llm/openaiProvider.js';
import { createModelChoiceActivities } from './modelChoice.js';

const LIST_TIMEOUT_MS = 15_000;

export async function checkModel(model: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  let spec;
  try {
    spec = parseModelSpec(model);
  } catch (err) {
    return [(err as Error).message];
  }
  try {
    if (spec.provider === 'embedded') {
      new EmbeddedProvider(spec.model); // checks the file exists; loading is left to the first call
      return [];
    }
    const provider = spec.provider === 'anthropic' ? new AnthropicProvider(spec, env) : new OpenAIProvider(spec, env);
    const offered = await provider.listModels(AbortSignal.timeout(LIST_TIMEOUT_MS));
    // Local servers (llama.cpp, LM Studio) often list one model under another name: only hosted providers are held to their list.
    if (spec.provider !== 'openai-compatible' && offered.length && !offered.some((id) => id === spec.model || id.startsWith(`${spec.model}-`))) {
      return [`${spec.provider} does not offer model "${spec.model}" (it lists ${offered.length} models, e.g. ${offered.slice(0, 5).join(', ')})`];
    }
    return [];
  } catch (err) {
    const message = err instanceof ApplicationFailure || err instanceof Error ? err.message : String(err);
    return [`${spec.spec}: ${message}`];
  }
}

export function createLlmPreflightActivities(env?: NodeJS.ProcessEnv) {
  return {
    // `--model auto`, chosen from the same environment the model check reads (registered on every queue, called on research).
    ...createModelChoiceActivities(env),
    async llmPreflight(input: { model: string }): Promise<string[]> {
      return checkModel(input.model, env);
    },
  };
}

export type LlmPreflightActivities = ReturnType<typeof createLlmPreflightActivities>;
