import type { ProviderName } from '../common/modelSpec.js';

/**
 * Connection and tuning from the environment, shared by workers and the CLI.
 * The same code talks to the local dev server, a self-hosted cluster or Temporal Cloud.
 */
export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Temporal Cloud API key; implies TLS. Read from TEMPORAL_API_KEY, never logged. */
  apiKey?: string;
  tls: boolean;
}

export function temporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  return {
    address: env.TEMPORAL_ADDRESS || 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    apiKey,
    tls: Boolean(apiKey) || env.TEMPORAL_TLS === '1' || env.TEMPORAL_TLS === 'true',
  };
}

export function connectionOptions(target: TemporalTarget) {
  return {
    address: target.address,
    ...(target.tls ? { tls: true as const } : {}),
    ...(target.apiKey ? { apiKey: target.apiKey } : {}),
  };
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** Variable-name form of a provider: `openai-compatible` → `OPENAI_COMPATIBLE`. */
function envSuffix(provider: ProviderName): string {
  return provider.toUpperCase().replace(/-/g, '_');
}

/**
 * Worker tuning per queue. LLM queues take a default (`LAB_LLM_CONCURRENCY`,
 * `LAB_LLM_ACTIVITIES_PER_SECOND`) and a per-provider override (`..._ANTHROPIC`, ...), the knobs for
 * provider rate limits. Activities-per-second is enforced by the server across all workers of a queue.
 */
export function workerTuning(env: NodeJS.ProcessEnv = process.env) {
  return {
    research: {
      maxConcurrentWorkflowTaskExecutions: positiveNumber(env, 'LAB_RESEARCH_WORKFLOW_CONCURRENCY', 40),
      maxConcurrentActivityTaskExecutions: positiveNumber(env, 'LAB_RESEARCH_ACTIVITY_CONCURRENCY', 20),
    },
    llm(provider: ProviderName) {
      const suffix = envSuffix(provider);
      // The embedded model runs one generation at a time per process; more slots only queue up.
      const fallbackConcurrency = provider === 'embedded' ? 1 : positiveNumber(env, 'LAB_LLM_CONCURRENCY', 4);
      const rateVar = env[`LAB_LLM_ACTIVITIES_PER_SECOND_${suffix}`] ? `LAB_LLM_ACTIVITIES_PER_SECOND_${suffix}` : 'LAB_LLM_ACTIVITIES_PER_SECOND';
      const rate = env[rateVar] ? positiveNumber(env, rateVar, 1) : undefined;
      return {
        // Heartbeats carry "tokens so far"; send them every few seconds, not the SDK's 30-60 s.
        maxHeartbeatThrottleInterval: '5s',
        defaultHeartbeatThrottleInterval: '5s',
        maxConcurrentActivityTaskExecutions: positiveNumber(env, `LAB_LLM_CONCURRENCY_${suffix}`, fallbackConcurrency),
        ...(rate ? { maxTaskQueueActivitiesPerSecond: rate } : {}),
      };
    },
  };
}
