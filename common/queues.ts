import { PROVIDERS, type ProviderName } from './modelSpec.js';

/**
 * Task queues: workflows on `research`; LLM calls on one queue per provider (`llm.anthropic`,
 * `llm.openai`, ...) so each provider's concurrency and rate can be capped on its own;
 * experiment code on `sandbox` (can live on other hosts, GPU hosts); literature search on
 * `literature` (rate-capped for the search APIs' sake).
 */
export const TASK_QUEUES = { research: 'research', sandbox: 'sandbox', literature: 'literature' } as const;

export type LlmQueue = `llm.${ProviderName}`;
export type ActivityQueue = 'sandbox' | 'literature';
export type TaskQueueName = 'research' | ActivityQueue | LlmQueue;

/** What `lab worker` serves when not told otherwise: everything, so one local worker runs whole runs. */
export const DEFAULT_WORKER_QUEUES = 'research,llm,sandbox,literature';

export function llmQueueFor(provider: ProviderName): LlmQueue {
  return `llm.${provider}`;
}

export const LLM_QUEUES: LlmQueue[] = PROVIDERS.map(llmQueueFor);

const QUEUE_HELP = `queues: research, sandbox, literature, llm (every provider), one of ${LLM_QUEUES.join(', ')}, or all`;

/** `research,llm` → research plus one queue per LLM provider; `llm.anthropic` serves one provider. */
export function parseQueues(list: string): TaskQueueName[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new Error(`no queue given (${QUEUE_HELP})`);
  const queues = new Set<TaskQueueName>();
  for (const n of names) {
    if (n === 'research' || n === 'sandbox' || n === 'literature') queues.add(n);
    else if (n === 'all') parseQueues(DEFAULT_WORKER_QUEUES).forEach((q) => queues.add(q));
    else if (n === 'llm') LLM_QUEUES.forEach((q) => queues.add(q));
    else if ((LLM_QUEUES as string[]).includes(n)) queues.add(n as TaskQueueName);
    else throw new Error(`unknown queue "${n}" (${QUEUE_HELP})`);
  }
  return [...queues];
}

/**
 * One sandbox host's own queue. An experiment's workspace (and a competition's hidden split) lives
 * on the host that made it, so a run's later sandbox steps go to that host's queue: the run claims a
 * host once on `sandbox` (any host answers with its own queue) and keeps it.
 */
export function sandboxHostQueue(hostId: string): string {
  return `sandbox@${hostId}`;
}

/**
 * Where a sandbox host answers "are you there?": a queue of its own, served by its own small worker,
 * so the answer comes even while every command slot of the host is busy (a busy worker stops
 * polling its host queue, a live one never stops polling this).
 */
export function sandboxProbeQueue(hostQueue: string): string {
  return hostQueue.replace(/^sandbox@/, 'sandbox-alive@');
}
