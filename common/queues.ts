import { PROVIDERS, type ProviderName } from './modelSpec.js';

/**
 * Task queues: workflows on `research`; LLM calls on one queue per provider (`llm.anthropic`,
 * `llm.openai`, ...) so each provider's concurrency and rate can be capped on its own;
 * experiment code on `sandbox`.
 */
export const TASK_QUEUES = { research: 'research', sandbox: 'sandbox' } as const;

export type LlmQueue = `llm.${ProviderName}`;
export type TaskQueueName = 'research' | LlmQueue;

export function llmQueueFor(provider: ProviderName): LlmQueue {
  return `llm.${provider}`;
}

export const LLM_QUEUES: LlmQueue[] = PROVIDERS.map(llmQueueFor);
