/** Task queues: workflows on `research`, LLM calls on `llm` (rate-limited), code on `sandbox`. */
export const TASK_QUEUES = { research: 'research', llm: 'llm', sandbox: 'sandbox' } as const;
export type TaskQueueName = keyof typeof TASK_QUEUES;
