/** Worker queues and tuning from the environment: per-provider LLM caps. */
import { describe, expect, it } from 'vitest';
import { LLM_QUEUES } from '../common/queues.js';
import { parseQueues } from '../workers/createWorkers.js';
import { temporalTarget, workerTuning } from '../workers/env.js';

describe('worker queues', () => {
  it('expands llm to one queue per provider and accepts a single provider queue', () => {
    expect(parseQueues('research,llm')).toEqual(['research', ...LLM_QUEUES]);
    expect(LLM_QUEUES).toEqual(['llm.openai', 'llm.anthropic', 'llm.openrouter', 'llm.openai-compatible', 'llm.embedded']);
    expect(parseQueues('llm.anthropic')).toEqual(['llm.anthropic']);
    expect(() => parseQueues('gpu')).toThrow(/unknown queue "gpu"/);
    expect(() => parseQueues(' , ')).toThrow(/no queue given/);
  });
});

describe('worker tuning', () => {
  it('caps LLM concurrency and rate per provider, with defaults', () => {
    const tuning = workerTuning({
      LAB_LLM_CONCURRENCY: '8',
      LAB_LLM_CONCURRENCY_ANTHROPIC: '2',
      LAB_LLM_ACTIVITIES_PER_SECOND_OPENAI_COMPATIBLE: '0.5',
    });
    expect(tuning.llm('openai')).toMatchObject({ maxConcurrentActivityTaskExecutions: 8 });
    expect(tuning.llm('openai')).not.toHaveProperty('maxTaskQueueActivitiesPerSecond');
    expect(tuning.llm('anthropic')).toMatchObject({ maxConcurrentActivityTaskExecutions: 2 });
    expect(tuning.llm('openai-compatible')).toMatchObject({ maxConcurrentActivityTaskExecutions: 8, maxTaskQueueActivitiesPerSecond: 0.5 });
    expect(tuning.llm('embedded')).toMatchObject({ maxConcurrentActivityTaskExecutions: 1, maxHeartbeatThrottleInterval: '5s' });
  });

  it('refuses nonsense values with the variable name', () => {
    expect(() => workerTuning({ LAB_LLM_CONCURRENCY: 'lots' }).llm('openai')).toThrow('LAB_LLM_CONCURRENCY must be a positive number, got "lots"');
  });

  it('connects to Temporal Cloud with TLS when an API key is set', () => {
    expect(temporalTarget({})).toMatchObject({ address: 'localhost:7233', namespace: 'default', apiKey: undefined, tls: false });
    expect(temporalTarget({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k' })).toMatchObject({ tls: true, apiKey: 'k' });
  });
});
