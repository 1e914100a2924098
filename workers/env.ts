import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { ProviderName } from '../common/modelSpec.js';

/**
 * Connection and tuning from the environment, shared by workers and the CLI.
 * The same code talks to the local dev server, a self-hosted cluster or Temporal Cloud; the
 * connection settings are read in temporalConfig.ts (profiles, TLS, API key).
 */
export { SettingError, temporalTarget, unreachableHint, type TemporalConnectionOptions, type TemporalTarget } from './temporalConfig.js';
import type { TemporalConnectionOptions, TemporalTarget } from './temporalConfig.js';

export function connectionOptions(target: TemporalTarget): TemporalConnectionOptions {
  return target.connection;
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
    /** Sandboxed commands at once on this host: each may use a core and its memory limit. */
    sandbox: {
      maxConcurrentActivityTaskExecutions: positiveNumber(env, 'LAB_SANDBOX_CONCURRENCY', 2),
      maxHeartbeatThrottleInterval: '5s',
      defaultHeartbeatThrottleInterval: '5s',
    },
    /** Search requests: the APIs' own limits are per client, so cap them across all workers too. */
    literature: {
      maxConcurrentActivityTaskExecutions: positiveNumber(env, 'LAB_LITERATURE_CONCURRENCY', 4),
      ...(env.LAB_LITERATURE_ACTIVITIES_PER_SECOND
        ? { maxTaskQueueActivitiesPerSecond: positiveNumber(env, 'LAB_LITERATURE_ACTIVITIES_PER_SECOND', 1) }
        : {}),
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

export interface ShutdownHandlers {
  /** First SIGINT or SIGTERM, or the npm process that started this one went away: stop gracefully. */
  stop(reason: string): void;
  /** A second signal while stopping: stop now. The process exits (128 + signal number) right after. */
  force(signal: NodeJS.Signals): void;
}

const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * True when npm (`npx lab ...`, `npm run ...`) started this process. npm runs commands through
 * `sh -c`: a signal sent to npm reaches that shell, which dies without passing it on, so this
 * process never hears it; all it sees is its parent going away.
 */
export function startedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.npm_lifecycle_event || env.npm_command);
}

/** The parent's pid as it is now (Node's `process.ppid` is read once at start-up). */
function liveParentPid(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // pid (comm) state ppid ...; comm may contain spaces and parentheses, so split after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function parentGone(ppid: number): boolean {
  const now = liveParentPid();
  if (now !== undefined) return now !== ppid;
  try {
    process.kill(ppid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Shutdown for long-running commands (`lab server`, `lab worker`): the first SIGINT/SIGTERM calls
 * `stop`, a second one calls `force` and exits. When npm started the process, its parent going
 * away counts as a SIGTERM (see {@link startedByNpm}). SIGHUP is left alone so `nohup` keeps working.
 * Returns a function that removes the handlers.
 */
export function handleShutdown(handlers: ShutdownHandlers, options: { watchParent?: boolean } = {}): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) {
      stopping = true;
      handlers.stop(signal);
      return;
    }
    handlers.force(signal);
    process.exit(128 + (osConstants.signals[signal] ?? 15));
  };
  for (const s of SHUTDOWN_SIGNALS) process.on(s, onSignal);

  let timer: NodeJS.Timeout | undefined;
  const ppid = process.ppid;
  if ((options.watchParent ?? startedByNpm()) && ppid > 1) {
    timer = setInterval(() => {
      if (!parentGone(ppid)) return;
      clearInterval(timer);
      if (!stopping) {
        stopping = true;
        handlers.stop('parent exited');
      }
    }, 500);
    timer.unref();
  }
  return () => {
    for (const s of SHUTDOWN_SIGNALS) process.off(s, onSignal);
    if (timer) clearInterval(timer);
  };
}
