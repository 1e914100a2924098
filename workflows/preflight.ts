/**
 * Preflight: before any paid call, check everything a run will need on the workers that will do
 * the work: the model (key, endpoint, model name), the sandbox (a real process, no network, the
 * sandbox Python's packages) and the literature backends. Model and sandbox problems stop the run;
 * an unreachable literature backend is a warning (the literature stage then says so and cites nothing).
 * Runs as its own small workflow (`lab run` waits for it) and as the first step of a research run.
 */
import { ActivityFailure, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { LlmPreflightActivities } from '../activities/preflight/llm.js';
import type { ModelChoice, ModelChoiceActivities } from '../activities/preflight/modelChoice.js';
import { isAutoModel, parseModelSpec } from '../common/modelSpec.js';
import { llmQueueFor, TASK_QUEUES } from '../common/queues.js';
import type { Budget } from '../common/schemas.js';

export interface PreflightInput {
  model: string;
  /** Check the sandbox (false when the experiment stage is reused). */
  sandbox: boolean;
  literature: boolean;
  /** How long to wait for a worker of each queue to pick the check up; absent: as long as it takes. */
  workerWaitSeconds?: number;
}

export interface PreflightReport {
  /** Each a reason the run cannot work as configured. */
  problems: string[];
  /** Each a degradation the run can live with (said in its outputs). */
  warnings: string[];
  /** The model a worker chose for `auto` (absent when the input named a model). */
  model?: string;
}

/**
 * Resolves `auto` on a worker of the research queue, from that worker's environment (where the
 * keys are), and checks a USD budget against the chosen model's price. Called only when the
 * input says `auto`, which inputs recorded before this step never do (the CLI resolved it), so they replay.
 */
export async function chooseModel(budget: Budget | undefined, workerWaitSeconds?: number): Promise<ModelChoice> {
  const { chooseModel: choose } = proxyActivities<ModelChoiceActivities>({
    taskQueue: TASK_QUEUES.research,
    ...(workerWaitSeconds ? { scheduleToStartTimeout: `${workerWaitSeconds}s` } : {}),
    startToCloseTimeout: '1m',
    retry: { maximumAttempts: 3 },
    summary: 'choose the model for --model auto',
  });
  return choose(budget ? { budget } : {});
}

interface ServiceChecks {
  envPreflight(): Promise<string[]>;
  literaturePreflight(): Promise<string[]>;
}

export async function preflight(input: PreflightInput): Promise<PreflightReport> {
  // Inside a run, a check waits for its worker as the run itself would; `lab run` asks with a deadline.
  const wait = input.workerWaitSeconds ? { scheduleToStartTimeout: `${input.workerWaitSeconds}s` } : {};
  const options = (taskQueue: string) => ({ taskQueue, ...wait, startToCloseTimeout: '2m', retry: { maximumAttempts: 2 } });
  let chosen: string | undefined;
  if (isAutoModel(input.model)) {
    try {
      chosen = (await chooseModel(undefined, input.workerWaitSeconds)).model;
    } catch (err) {
      const problems = await checked(TASK_QUEUES.research, () => Promise.reject(err));
      return { problems, warnings: [] };
    }
  }
  const model = chosen ?? input.model;
  const llmQueue = llmQueueFor(parseModelSpec(model).provider);
  const { llmPreflight } = proxyActivities<LlmPreflightActivities>({ ...options(llmQueue), summary: `preflight: ${model}` });
  const { envPreflight } = proxyActivities<ServiceChecks>({ ...options(TASK_QUEUES.sandbox), summary: 'preflight: sandbox' });
  const { literaturePreflight } = proxyActivities<ServiceChecks>({ ...options(TASK_QUEUES.literature), summary: 'preflight: literature backends' });
  const [modelProblems, sandbox, literature] = await Promise.all([
    checked(llmQueue, () => llmPreflight({ model })),
    input.sandbox ? checked(TASK_QUEUES.sandbox, () => envPreflight()) : Promise.resolve([]),
    input.literature ? checked(TASK_QUEUES.literature, () => literaturePreflight()) : Promise.resolve([]),
  ]);
  return { problems: [...modelProblems, ...sandbox], warnings: literature, ...(chosen ? { model: chosen } : {}) };
}

/** A check's problems; a queue no worker serves is a problem of its own, named so a person can fix it. */
async function checked(queue: string, check: () => Promise<string[]>): Promise<string[]> {
  try {
    return await check();
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
      return [`no worker serves the ${queue} task queue (start one with \`lab worker\`, which serves every queue by default)`];
    }
    const cause = err instanceof ActivityFailure ? err.cause : err;
    return [`the ${queue} check failed: ${(cause as Error)?.message ?? String(cause)}`];
  }
}
